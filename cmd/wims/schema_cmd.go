package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wims/wims"
	"github.com/wims/wims/client"
)

// The schema registry's client commands (DESIGN §8), over the REST API.

func newRegistriesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "registries", Short: "List, create and delete schema registries"}
	regTable := func(regs ...wims.Registry) func(io.Writer) error {
		return func(w io.Writer) error {
			return table(w, "NAME\tDESCRIPTION", func(tw io.Writer) {
				for _, r := range regs {
					fmt.Fprintf(tw, "%s\t%s\n", r.Name, orDash(r.Description))
				}
			})
		}
	}
	var prefix, description string
	list := platformCmd("list [--prefix P]", "List schema registries", 0, "no arguments", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
		regs, err := c.ListRegistries(cmd.Context(), prefix)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, map[string]any{"registries": nonNil(regs)}, regTable(regs...))
	})
	list.Flags().StringVar(&prefix, "prefix", "", "only registries whose names start with this")
	create := platformCmd("create NAME [--description D]", "Create a registry for your own schemas", 1, "the registry's NAME", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
		r, err := c.CreateRegistry(cmd.Context(), a[0], description)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, r, regTable(r))
	})
	create.Flags().StringVar(&description, "description", "", "what the registry holds")
	del := platformCmd("delete NAME", "Delete a registry and its schemas", 1, "the registry's NAME", func(cmd *cobra.Command, c *client.Client, _ *clientFlags, a []string) error {
		if err := c.DeleteRegistry(cmd.Context(), a[0]); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "deleted registry %s\n", a[0])
		return nil
	})
	cmd.AddCommand(list, create, del)
	return cmd
}

func newSchemasCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "schemas", Short: "List, show, export, create and version event schemas (discovered ones by default)"}
	schemaTable := func(schemas ...wims.Schema) func(io.Writer) error {
		return func(w io.Writer) error {
			return table(w, "NAME\tTYPE\tVERSION\tVERSIONS\tMODIFIED", func(tw io.Writer) {
				for _, s := range schemas {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", s.Name, s.Type, s.LatestVersion, s.VersionCount, stamp(s.UpdatedAt))
				}
			})
		}
	}
	var registry, prefix, search, version string
	registryFlag := func(c *cobra.Command) {
		c.Flags().StringVar(&registry, "registry", wims.DiscoveredRegistry, "the registry")
	}
	list := platformCmd("list [--registry R] [--prefix P] [--search WORDS]", "List a registry's schemas", 0, "no arguments", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
		schemas, err := c.ListSchemas(cmd.Context(), registry, prefix, search)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, map[string]any{"schemas": nonNil(schemas)}, schemaTable(schemas...))
	})
	list.Flags().StringVar(&prefix, "prefix", "", "only schemas whose names start with this")
	list.Flags().StringVar(&search, "search", "", "only schemas whose names contain every one of these words")

	get := platformCmd("get NAME [--registry R] [--version V]", "Show a schema version and its document", 1, "the schema's NAME (discovered: source@DetailType)", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
		s, err := c.GetSchema(cmd.Context(), registry, a[0], version)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, s, func(w io.Writer) error {
			fmt.Fprintf(w, "%s  %s  version %s of %s  (%s)\n\n", s.Name, s.Type, s.Version, s.LatestVersion, stamp(s.VersionCreatedAt))
			return writeDocument(w, []byte(s.Content))
		})
	})
	versions := platformCmd("versions NAME [--registry R]", "List a schema's versions", 1, "the schema's NAME", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
		vs, err := c.ListSchemaVersions(cmd.Context(), registry, a[0])
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, map[string]any{"versions": nonNil(vs)}, func(w io.Writer) error {
			return table(w, "VERSION\tTYPE\tCREATED", func(tw io.Writer) {
				for _, v := range vs {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Version, v.Type, stamp(v.CreatedAt))
				}
			})
		})
	})
	export := platformCmd("export NAME [--registry R] [--version V]", "Print a schema version as JSON Schema draft 4", 1, "the schema's NAME", func(cmd *cobra.Command, c *client.Client, _ *clientFlags, a []string) error {
		doc, err := c.ExportSchema(cmd.Context(), registry, a[0], version)
		if err != nil {
			return apiError(err)
		}
		return writeDocument(cmd.OutOrStdout(), doc)
	})
	for _, c := range []*cobra.Command{get, export} {
		c.Flags().StringVar(&version, "version", "", "the version (default: the latest)")
	}

	var req client.SchemaRequest
	var content, createType string
	withContent := func(cmd *cobra.Command, required bool) error {
		if content == "" {
			if required {
				return usageError(fmt.Errorf("--content is required (JSON, or @file)"))
			}
			return nil
		}
		b, err := readArg(cmd, content)
		if err != nil {
			return usageError(fmt.Errorf("--content: %w", err))
		}
		req.Content = string(b)
		return nil
	}
	create := platformCmd("create NAME --registry R --content JSON|@file [--type OpenApi3|JSONSchemaDraft4]", "Create a schema (version 1) in a registry of your own", 1, "the schema's NAME",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
			if err := withContent(cmd, true); err != nil {
				return err
			}
			r := req
			r.Name, r.Type = a[0], createType
			s, err := c.CreateSchema(cmd.Context(), registry, r)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, cf, s, schemaTable(s))
		})
	update := platformCmd("update NAME --registry R [--content JSON|@file] [--type T] [--description D]", "Add a version with new content (and replace the description)", 1, "the schema's NAME",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
			if err := withContent(cmd, false); err != nil {
				return err
			}
			s, err := c.UpdateSchema(cmd.Context(), registry, a[0], req)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, cf, s, schemaTable(s))
		})
	for _, c := range []*cobra.Command{create, update} {
		c.Flags().StringVar(&content, "content", "", "the schema document: JSON, or @file (@- for stdin)")
		c.Flags().StringVar(&req.Description, "description", "", "what the schema describes")
	}
	create.Flags().StringVar(&createType, "type", wims.SchemaTypeJSONSchemaDraft4, "OpenApi3 or JSONSchemaDraft4")
	update.Flags().StringVar(&req.Type, "type", "", "OpenApi3 or JSONSchemaDraft4 (default: unchanged)")
	del := platformCmd("delete NAME [--registry R]", "Delete a schema and all its versions", 1, "the schema's NAME", func(cmd *cobra.Command, c *client.Client, _ *clientFlags, a []string) error {
		if err := c.DeleteSchema(cmd.Context(), registry, a[0]); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "deleted schema %s of registry %s\n", a[0], registry)
		return nil
	})
	for _, c := range []*cobra.Command{list, get, versions, export, create, update, del} {
		registryFlag(c)
	}
	cmd.AddCommand(list, get, versions, export, create, update, del)
	return cmd
}

// writeDocument prints a JSON document indented (as it came if it is not
// JSON).
func writeDocument(w io.Writer, doc []byte) error {
	var buf bytes.Buffer
	if json.Indent(&buf, doc, "", "  ") != nil {
		buf.Reset()
		buf.Write(doc)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

func newDiscoverersCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "discoverers", Short: "List, create, start, stop and delete schema discoverers (one per bus)"}
	discTable := func(ds ...wims.Discoverer) func(io.Writer) error {
		return func(w io.Writer) error {
			return table(w, "ID\tBUS\tSTATE\tDESCRIPTION", func(tw io.Writer) {
				for _, d := range ds {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.ID, d.EventBus, d.State, orDash(d.Description))
				}
			})
		}
	}
	list := platformCmd("list", "List schema discoverers", 0, "no arguments", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
		ds, err := c.ListDiscoverers(cmd.Context())
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, map[string]any{"discoverers": nonNil(ds)}, discTable(ds...))
	})
	var description string
	create := platformCmd("create BUS [--description D]", "Discover the schemas of a bus's events", 1, "the BUS", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
		d, err := c.CreateDiscoverer(cmd.Context(), a[0], description)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, d, discTable(d))
	})
	create.Flags().StringVar(&description, "description", "", "what the discoverer is for")
	state := func(use, short, to string) *cobra.Command {
		return platformCmd(use, short, 1, "the discoverer's ID", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
			d, err := c.SetDiscovererState(cmd.Context(), a[0], to)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, cf, d, discTable(d))
		})
	}
	del := platformCmd("delete ID", "Delete a discoverer (its schemas stay)", 1, "the discoverer's ID", func(cmd *cobra.Command, c *client.Client, _ *clientFlags, a []string) error {
		if err := c.DeleteDiscoverer(cmd.Context(), a[0]); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "deleted discoverer %s\n", a[0])
		return nil
	})
	cmd.AddCommand(list, create, state("start ID", "Start a discoverer", wims.DiscovererStarted),
		state("stop ID", "Stop a discoverer", wims.DiscovererStopped), del)
	return cmd
}
