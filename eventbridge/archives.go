package eventbridge

import (
	"context"

	"github.com/wims/wims"
)

// Archive and replay shapes, member names as the service model spells them.

type archiveShape struct {
	ArchiveName    string `json:"ArchiveName"`
	ArchiveArn     string `json:"ArchiveArn,omitempty"`
	EventSourceArn string `json:"EventSourceArn"`
	Description    string `json:"Description,omitempty"`
	EventPattern   string `json:"EventPattern,omitempty"`
	State          string `json:"State"`
	StateReason    string `json:"StateReason,omitempty"`
	RetentionDays  int    `json:"RetentionDays"`
	SizeBytes      int64  `json:"SizeBytes"`
	EventCount     int64  `json:"EventCount"`
	CreationTime   *epoch `json:"CreationTime,omitempty"`
}

func fromArchive(a wims.Archive) archiveShape {
	return archiveShape{
		ArchiveName: a.Name, ArchiveArn: a.ARN(), EventSourceArn: wims.BusARN(a.EventBus), Description: a.Description,
		EventPattern: a.EventPattern, State: a.State, StateReason: a.StateReason, RetentionDays: a.RetentionDays,
		SizeBytes: a.SizeBytes, EventCount: a.EventCount, CreationTime: toEpoch(a.CreatedAt),
	}
}

type replayDestinationShape struct {
	Arn        string   `json:"Arn"`
	FilterArns []string `json:"FilterArns,omitempty"`
}

type replayShape struct {
	ReplayName            string                  `json:"ReplayName"`
	ReplayArn             string                  `json:"ReplayArn,omitempty"`
	Description           string                  `json:"Description,omitempty"`
	State                 string                  `json:"State"`
	StateReason           string                  `json:"StateReason,omitempty"`
	EventSourceArn        string                  `json:"EventSourceArn"`
	Destination           *replayDestinationShape `json:"Destination,omitempty"`
	EventStartTime        *epoch                  `json:"EventStartTime,omitempty"`
	EventEndTime          *epoch                  `json:"EventEndTime,omitempty"`
	EventLastReplayedTime *epoch                  `json:"EventLastReplayedTime,omitempty"`
	ReplayStartTime       *epoch                  `json:"ReplayStartTime,omitempty"`
	ReplayEndTime         *epoch                  `json:"ReplayEndTime,omitempty"`
}

// fromReplay is the shape of DescribeReplay; ListReplays leaves out what
// its Replay shape does not have.
func fromReplay(r wims.Replay, full bool) replayShape {
	out := replayShape{
		ReplayName: r.Name, State: r.State, StateReason: r.StateReason, EventSourceArn: wims.ArchiveARN(r.Archive),
		EventStartTime: toEpoch(r.EventStartTime), EventEndTime: toEpoch(r.EventEndTime),
		EventLastReplayedTime: toEpoch(r.EventLastReplayedTime), ReplayStartTime: toEpoch(r.ReplayStartTime),
		ReplayEndTime: toEpoch(r.ReplayEndTime),
	}
	if full {
		out.ReplayArn, out.Description = r.ARN(), r.Description
		out.Destination = &replayDestinationShape{Arn: r.Destination.Arn, FilterArns: r.Destination.FilterArns}
	}
	return out
}

type archiveIn struct {
	ArchiveName      string `json:"ArchiveName"`
	EventSourceArn   string `json:"EventSourceArn"`
	Description      string `json:"Description"`
	EventPattern     string `json:"EventPattern"`
	RetentionDays    int    `json:"RetentionDays"`
	KmsKeyIdentifier string `json:"KmsKeyIdentifier"`
}

// archiveResult is what CreateArchive and UpdateArchive answer.
func archiveResult(a wims.Archive) any {
	return struct {
		ArchiveArn   string `json:"ArchiveArn"`
		State        string `json:"State"`
		StateReason  string `json:"StateReason,omitempty"`
		CreationTime *epoch `json:"CreationTime,omitempty"`
	}{a.ARN(), a.State, a.StateReason, toEpoch(a.CreatedAt)}
}

func noKMS(key string) error {
	if key != "" {
		return validation("KmsKeyIdentifier: wims archives are not encrypted with KMS keys")
	}
	return nil
}

// archiveOperations serves archives and replays.
var archiveOperations = map[string]Operation{
	"CreateArchive": op("admin", func(ctx context.Context, p wims.EventPlatform, in archiveIn) (any, error) {
		if err := required("ArchiveName", in.ArchiveName); err != nil {
			return nil, err
		}
		if err := required("EventSourceArn", in.EventSourceArn); err != nil {
			return nil, err
		}
		if err := noKMS(in.KmsKeyIdentifier); err != nil {
			return nil, err
		}
		bus, ok := wims.BusNameFromBusARN(in.EventSourceArn)
		if !ok {
			return nil, validation("1 validation error detected: Value at 'eventSourceArn' failed to satisfy constraint: must be an event bus ARN")
		}
		a, err := p.CreateArchive(ctx, wims.Archive{Name: in.ArchiveName, EventBus: bus, Description: in.Description,
			EventPattern: in.EventPattern, RetentionDays: in.RetentionDays})
		if err != nil {
			return nil, err
		}
		return archiveResult(a), nil
	}),
	"UpdateArchive": op("admin", func(ctx context.Context, p wims.EventPlatform, in archiveIn) (any, error) {
		if err := required("ArchiveName", in.ArchiveName); err != nil {
			return nil, err
		}
		if err := noKMS(in.KmsKeyIdentifier); err != nil {
			return nil, err
		}
		a, err := p.UpdateArchive(ctx, wims.Archive{Name: in.ArchiveName, Description: in.Description,
			EventPattern: in.EventPattern, RetentionDays: in.RetentionDays})
		if err != nil {
			return nil, err
		}
		return archiveResult(a), nil
	}),
	"DescribeArchive": op("read", func(ctx context.Context, p wims.EventPlatform, in archiveIn) (any, error) {
		if err := required("ArchiveName", in.ArchiveName); err != nil {
			return nil, err
		}
		a, err := p.DescribeArchive(ctx, in.ArchiveName)
		if err != nil {
			return nil, err
		}
		return fromArchive(a), nil
	}),
	"DeleteArchive": op("admin", func(ctx context.Context, p wims.EventPlatform, in archiveIn) (any, error) {
		if err := required("ArchiveName", in.ArchiveName); err != nil {
			return nil, err
		}
		return nil, p.DeleteArchive(ctx, in.ArchiveName)
	}),
	"ListArchives": op("read", func(ctx context.Context, p wims.EventPlatform, in struct {
		NamePrefix     string `json:"NamePrefix"`
		EventSourceArn string `json:"EventSourceArn"`
		State          string `json:"State"`
		NextToken      string `json:"NextToken"`
		Limit          int    `json:"Limit"`
	}) (any, error) {
		f := wims.ArchiveFilter{NamePrefix: in.NamePrefix, State: in.State}
		if in.EventSourceArn != "" {
			bus, ok := wims.BusNameFromBusARN(in.EventSourceArn)
			if !ok {
				return nil, validation("1 validation error detected: Value at 'eventSourceArn' failed to satisfy constraint: must be an event bus ARN")
			}
			f.EventBus = bus
		}
		all, err := p.ListArchives(ctx, f)
		if err != nil {
			return nil, err
		}
		page, next, err := pageOf(all, func(a wims.Archive) string { return a.Name }, in.NextToken, in.Limit)
		if err != nil {
			return nil, err
		}
		out := struct {
			Archives  []archiveShape `json:"Archives"`
			NextToken string         `json:"NextToken,omitempty"`
		}{Archives: []archiveShape{}, NextToken: next}
		for _, a := range page {
			s := fromArchive(a)
			s.ArchiveArn, s.Description, s.EventPattern = "", "", "" // not in ListArchives' Archive shape
			out.Archives = append(out.Archives, s)
		}
		return out, nil
	}),

	"StartReplay": op("admin", func(ctx context.Context, p wims.EventPlatform, in struct {
		ReplayName     string                 `json:"ReplayName"`
		Description    string                 `json:"Description"`
		EventSourceArn string                 `json:"EventSourceArn"`
		EventStartTime *epoch                 `json:"EventStartTime"`
		EventEndTime   *epoch                 `json:"EventEndTime"`
		Destination    replayDestinationShape `json:"Destination"`
	}) (any, error) {
		for _, f := range [][2]string{{"ReplayName", in.ReplayName}, {"EventSourceArn", in.EventSourceArn}, {"Destination.Arn", in.Destination.Arn}} {
			if err := required(f[0], f[1]); err != nil {
				return nil, err
			}
		}
		r, err := p.StartReplay(ctx, wims.Replay{Name: in.ReplayName, Description: in.Description, Archive: in.EventSourceArn,
			EventStartTime: in.EventStartTime.time(), EventEndTime: in.EventEndTime.time(),
			Destination: wims.ReplayDestination{Arn: in.Destination.Arn, FilterArns: in.Destination.FilterArns}})
		if err != nil {
			return nil, err
		}
		return struct {
			ReplayArn       string `json:"ReplayArn"`
			State           string `json:"State"`
			StateReason     string `json:"StateReason,omitempty"`
			ReplayStartTime *epoch `json:"ReplayStartTime,omitempty"`
		}{r.ARN(), r.State, r.StateReason, toEpoch(r.ReplayStartTime)}, nil
	}),
	"DescribeReplay": op("read", func(ctx context.Context, p wims.EventPlatform, in struct {
		ReplayName string `json:"ReplayName"`
	}) (any, error) {
		if err := required("ReplayName", in.ReplayName); err != nil {
			return nil, err
		}
		r, err := p.DescribeReplay(ctx, in.ReplayName)
		if err != nil {
			return nil, err
		}
		return fromReplay(r, true), nil
	}),
	"CancelReplay": op("admin", func(ctx context.Context, p wims.EventPlatform, in struct {
		ReplayName string `json:"ReplayName"`
	}) (any, error) {
		if err := required("ReplayName", in.ReplayName); err != nil {
			return nil, err
		}
		r, err := p.CancelReplay(ctx, in.ReplayName)
		if wims.ErrorCode(err) == wims.ECONFLICT {
			return nil, awsError{400, "IllegalStatusException", wims.ErrorMessage(err)}
		}
		if err != nil {
			return nil, err
		}
		return struct {
			ReplayArn   string `json:"ReplayArn"`
			State       string `json:"State"`
			StateReason string `json:"StateReason,omitempty"`
		}{r.ARN(), r.State, r.StateReason}, nil
	}),
	"ListReplays": op("read", func(ctx context.Context, p wims.EventPlatform, in struct {
		NamePrefix     string `json:"NamePrefix"`
		State          string `json:"State"`
		EventSourceArn string `json:"EventSourceArn"`
		NextToken      string `json:"NextToken"`
		Limit          int    `json:"Limit"`
	}) (any, error) {
		all, err := p.ListReplays(ctx, wims.ReplayFilter{NamePrefix: in.NamePrefix, State: in.State, Archive: in.EventSourceArn})
		if err != nil {
			return nil, err
		}
		page, next, err := pageOf(all, func(r wims.Replay) string { return r.Name }, in.NextToken, in.Limit)
		if err != nil {
			return nil, err
		}
		out := struct {
			Replays   []replayShape `json:"Replays"`
			NextToken string        `json:"NextToken,omitempty"`
		}{Replays: []replayShape{}, NextToken: next}
		for _, r := range page {
			out.Replays = append(out.Replays, fromReplay(r, false))
		}
		return out, nil
	}),
}
