package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wims/wims"
	"github.com/wims/wims/client"
)

// clientFlags are the flags every client command shares: where the server
// is, the key to use, and the output format. --url and --api-key also come
// from WIMS_URL and WIMS_API_KEY.
type clientFlags struct {
	url    string
	apiKey string
	json   bool
}

func (f *clientFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.url, "url", "http://127.0.0.1:8080", "wims server URL (env WIMS_URL)")
	fs.StringVar(&f.apiKey, "api-key", "", "API key to send as a bearer token (env WIMS_API_KEY)")
	fs.BoolVar(&f.json, "json", false, "print JSON instead of a table")
}

// client builds the API client, reading the environment for flags not given.
func (f *clientFlags) client(cmd *cobra.Command) (*client.Client, error) {
	if err := bindEnv(cmd.Flags()); err != nil {
		return nil, usageError(err)
	}
	if err := checkURL(f.url); err != nil {
		return nil, usageError(fmt.Errorf("--url: %w", err))
	}
	return client.New(f.url, f.apiKey), nil
}

// usageError makes err exit with status 2.
func usageError(err error) error { return &exitError{code: 2, err: err} }

// args checks the number of positional arguments as a usage error (exit 2).
func args(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if len(a) != n {
			return usageError(fmt.Errorf("%s: want %s", cmd.CommandPath(), names))
		}
		return nil
	}
}

// apiError turns a client error into the exit status and a readable message:
// problem details line by line, exit 1 (the server or the network failed the
// request; the command line itself was fine).
func apiError(err error) error {
	var pe *client.Error
	if !errors.As(err, &pe) {
		return &exitError{code: 1, err: err}
	}
	var b strings.Builder
	b.WriteString(pe.Error())
	if pe.Type != "" {
		fmt.Fprintf(&b, "\n  type:   %s", pe.Type)
	}
	if pe.Field != "" {
		fmt.Fprintf(&b, "\n  field:  %s", pe.Field)
	}
	if pe.RetryAfter > 0 {
		fmt.Fprintf(&b, "\n  retry after: %s", pe.RetryAfter)
	}
	if pe.RequestID != "" {
		fmt.Fprintf(&b, "\n  request id: %s", pe.RequestID)
	}
	return &exitError{code: 1, err: errors.New(b.String())}
}

func newOrderCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{Use: "order", Short: "Create, get, list, cancel and ship orders on a wims server"}
	cf.register(cmd.PersistentFlags())

	var (
		req     client.OrderRequest
		idemKey string
		lines   []string
	)
	create := &cobra.Command{
		Use:   "create --customer ID (--quantity N [--sku SKU] | --line SKU=N...) [--idempotency-key KEY]",
		Short: "Place an order (retry safely with --idempotency-key)",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			if req.CustomerID == "" {
				return usageError(errors.New("--customer is required"))
			}
			for _, l := range lines {
				line, err := parseOrderLine(l)
				if err != nil {
					return usageError(err)
				}
				req.Lines = append(req.Lines, line)
			}
			switch {
			case req.Lines != nil && (req.Quantity != 0 || req.SKU != ""):
				return usageError(errors.New("--line cannot be combined with --sku or --quantity"))
			case req.Lines == nil && req.Quantity <= 0:
				return usageError(errors.New("--quantity must be a positive number"))
			}
			o, replayed, err := c.CreateOrder(cmd.Context(), req, idemKey)
			if err != nil {
				return apiError(err)
			}
			if cf.json {
				return writeJSON(cmd.OutOrStdout(), o)
			}
			if replayed {
				fmt.Fprintln(cmd.ErrOrStderr(), "wims: replayed: this idempotency key already placed the order")
			}
			return writeOrders(cmd.OutOrStdout(), []wims.Order{o})
		},
	}
	create.Flags().StringVar(&req.CustomerID, "customer", "", "customer id (required)")
	create.Flags().Int64Var(&req.Quantity, "quantity", 0, "quantity (required)")
	create.Flags().StringVar(&req.SKU, "sku", "", "SKU (default: the server's default product)")
	create.Flags().StringArrayVar(&lines, "line", nil, "a line SKU=N of an order of several SKUs (repeatable; instead of --sku and --quantity)")
	create.Flags().StringVar(&idemKey, "idempotency-key", "", "Idempotency-Key: the same key and order return the original order")

	get := &cobra.Command{
		Use:   "get ID",
		Short: "Show an order with its status history and payment attempts",
		Args:  args(1, "one order id"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			o, err := c.GetOrder(cmd.Context(), a[0])
			if err != nil {
				return apiError(err)
			}
			if cf.json {
				return writeJSON(cmd.OutOrStdout(), o)
			}
			return writeOrderDetail(cmd.OutOrStdout(), o)
		},
	}

	cancel := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel an order: PENDING or RESERVED ones are cancelled, PAID ones refunded",
		Args:  args(1, "one order id"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			o, err := c.CancelOrder(cmd.Context(), a[0])
			if err != nil {
				return apiError(err)
			}
			if cf.json {
				return writeJSON(cmd.OutOrStdout(), o)
			}
			return writeOrders(cmd.OutOrStdout(), []wims.Order{o})
		},
	}

	var shipment wims.Shipment
	ship := &cobra.Command{
		Use:   "ship ID --carrier CARRIER --tracking-id ID",
		Short: "Mark a PAID order SHIPPED with its carrier and tracking id (admin)",
		Args:  args(1, "one order id"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			o, err := c.ShipOrder(cmd.Context(), a[0], shipment)
			if err != nil {
				return apiError(err)
			}
			if cf.json {
				return writeJSON(cmd.OutOrStdout(), o)
			}
			return writeOrders(cmd.OutOrStdout(), []wims.Order{o})
		},
	}
	ship.Flags().StringVar(&shipment.Carrier, "carrier", "", "carrier (required)")
	ship.Flags().StringVar(&shipment.TrackingID, "tracking-id", "", "the carrier's tracking id (required)")

	var f wims.OrderFilter
	var status string
	list := &cobra.Command{
		Use:   "list [--customer ID] [--status S] [--sku SKU] [--limit N] [--cursor C]",
		Short: "List orders, newest first; --cursor continues a listing",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			f.Status = wims.OrderStatus(strings.ToUpper(status))
			page, err := c.ListOrders(cmd.Context(), f)
			if err != nil {
				return apiError(err)
			}
			if cf.json {
				return writeJSON(cmd.OutOrStdout(), page)
			}
			if err := writeOrders(cmd.OutOrStdout(), page.Orders); err != nil {
				return err
			}
			if page.NextCursor != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "more: --cursor %s\n", page.NextCursor)
			}
			return nil
		},
	}
	list.Flags().StringVar(&f.CustomerID, "customer", "", "only this customer's orders")
	list.Flags().StringVar(&status, "status", "", "only orders in this status (PENDING, BACKORDERED, RESERVED, PAID, REJECTED, PAYMENT_FAILED, CANCELLED, REFUND_PENDING, REFUNDED, SHIPPED)")
	list.Flags().StringVar(&f.SKU, "sku", "", "only this SKU's orders")
	list.Flags().IntVar(&f.Limit, "limit", 0, "page size (server default 50, at most 500)")
	list.Flags().StringVar(&f.Cursor, "cursor", "", "continue after the page that printed this cursor")

	cmd.AddCommand(create, get, list, cancel, ship)
	return cmd
}

func newInventoryCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{Use: "inventory", Short: "List, get, set and adjust inventory on a wims server"}
	cf.register(cmd.PersistentFlags())

	show := func(cmd *cobra.Command, items ...wims.Item) error {
		if cf.json {
			if len(items) == 1 && cmd.Name() != "list" {
				return writeJSON(cmd.OutOrStdout(), items[0])
			}
			return writeJSON(cmd.OutOrStdout(), map[string]any{"items": items})
		}
		return writeItems(cmd.OutOrStdout(), items)
	}
	list := &cobra.Command{
		Use: "list", Short: "List all items", Args: args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			items, err := c.ListItems(cmd.Context())
			if err != nil {
				return apiError(err)
			}
			if items == nil {
				items = []wims.Item{}
			}
			return show(cmd, items...)
		},
	}
	get := &cobra.Command{
		Use: "get SKU", Short: "Show one item", Args: args(1, "one SKU"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			it, err := c.GetItem(cmd.Context(), a[0])
			if err != nil {
				return apiError(err)
			}
			return show(cmd, it)
		},
	}
	var (
		put       client.ItemRequest
		threshold int64
	)
	set := &cobra.Command{
		Use:   "set SKU --name NAME --quantity N [--model M] [--threshold T] [--high-threshold H] [--allow-backorder]",
		Short: "Create or replace an item",
		Args:  args(1, "one SKU"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("name") || !cmd.Flags().Changed("quantity") {
				return usageError(errors.New("--name and --quantity are required"))
			}
			if cmd.Flags().Changed("threshold") {
				put.LowStockThreshold = &threshold
			}
			it, err := c.PutItem(cmd.Context(), a[0], put)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, it)
		},
	}
	set.Flags().StringVar(&put.ProductName, "name", "", "product name (required)")
	set.Flags().StringVar(&put.Model, "model", "", "model")
	set.Flags().Int64Var(&put.Quantity, "quantity", 0, "quantity on hand (required)")
	set.Flags().Int64Var(&threshold, "threshold", 0, "low-stock threshold (server default 100)")
	set.Flags().Int64Var(&put.HighStockThreshold, "high-threshold", 0, "overstock threshold: rising above it is an OVERSTOCK crossing (0: none)")
	set.Flags().BoolVar(&put.AllowBackorder, "allow-backorder", false, "orders beyond the stock wait as BACKORDERED (filled first-come first-served by restocks) instead of being REJECTED")

	var adj wims.Adjustment
	adjust := &cobra.Command{
		Use:   "adjust SKU --delta N [--reason R]",
		Short: "Restock (positive delta) or write off (negative delta)",
		Args:  args(1, "one SKU"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			if adj.Delta == 0 {
				return usageError(errors.New("--delta is required and must not be 0"))
			}
			it, err := c.AdjustStock(cmd.Context(), a[0], adj)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, it)
		},
	}
	adjust.Flags().Int64Var(&adj.Delta, "delta", 0, "change in quantity, e.g. 500 or -5 (required)")
	adjust.Flags().StringVar(&adj.Reason, "reason", "", "why, for the record")

	cmd.AddCommand(list, get, set, adjust)
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	// Milliseconds matter: an order moves through its states in a few.
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func writeOrders(w io.Writer, orders []wims.Order) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORDER ID\tCUSTOMER\tSKU\tQUANTITY\tSTATUS\tCREATED\tREASON")
	for _, o := range orders {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", o.ID, o.CustomerID, o.SKU, o.Quantity, o.Status, stamp(o.CreatedAt), o.Reason)
	}
	return tw.Flush()
}

func writeOrderDetail(w io.Writer, o client.OrderDetail) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Order:\t%s\nCustomer:\t%s\nSKU:\t%s\nQuantity:\t%d\nStatus:\t%s\n", o.ID, o.CustomerID, o.SKU, o.Quantity, o.Status)
	if o.Reason != "" {
		fmt.Fprintf(tw, "Reason:\t%s\n", o.Reason)
	}
	if o.Carrier != "" {
		fmt.Fprintf(tw, "Shipped:\t%s %s\n", o.Carrier, o.TrackingID)
	}
	fmt.Fprintf(tw, "Created:\t%s\nUpdated:\t%s\n", stamp(o.CreatedAt), stamp(o.UpdatedAt))
	fmt.Fprintln(tw, "\nHISTORY\tAT\tREASON")
	for _, h := range o.History {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", h.Status, stamp(h.At), h.Reason)
	}
	if len(o.Payments) > 0 {
		fmt.Fprintln(tw, "\nPAYMENT ATTEMPT\tOUTCOME\tSTATUS CODE\tAT\tERROR")
		for _, p := range o.Payments {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", p.Attempt, p.Outcome, p.StatusCode, stamp(p.At), p.Error)
		}
	}
	for _, e := range o.Executions {
		fmt.Fprintf(tw, "\nEXECUTION %s\t%s\t%s\t%s – %s\n", e.ID, e.Workflow, e.Status, stamp(e.StartedAt), stamp(e.FinishedAt))
		fmt.Fprintln(tw, "  STEP\tOUTCOME\tSTARTED\tTOOK\tERROR")
		for _, st := range e.Steps {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%.1f ms\t%s\n", st.Name, st.Outcome, stamp(st.StartedAt), st.DurationMS, st.Error)
		}
	}
	return tw.Flush()
}

func writeItems(w io.Writer, items []wims.Item) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SKU\tPRODUCT\tMODEL\tQUANTITY\tLOW-STOCK THRESHOLD\tOVERSTOCK THRESHOLD\tUPDATED")
	for _, it := range items {
		high := "-"
		if it.HighStockThreshold > 0 {
			high = strconv.FormatInt(it.HighStockThreshold, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", it.SKU, it.ProductName, it.Model, it.Quantity, it.LowStockThreshold, high, stamp(it.UpdatedAt))
	}
	return tw.Flush()
}

// parseOrderLine reads a --line value, SKU=N, into an order line. The
// server validates the SKU and the bounds; this only splits the value.
func parseOrderLine(s string) (wims.OrderLine, error) {
	sku, n, ok := strings.Cut(s, "=")
	if !ok || sku == "" {
		return wims.OrderLine{}, fmt.Errorf("--line %q: want SKU=QUANTITY", s)
	}
	q, err := strconv.ParseInt(n, 10, 64)
	if err != nil || q <= 0 {
		return wims.OrderLine{}, fmt.Errorf("--line %q: the quantity must be a positive number", s)
	}
	return wims.OrderLine{SKU: sku, Quantity: q}, nil
}
