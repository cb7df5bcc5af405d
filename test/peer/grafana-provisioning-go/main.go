// Command grafanaprovisioningpeer drives the provisioning API with Grafana's
// generated Go client (github.com/grafana/grafana-openapi-client-go): it
// creates, reads, updates, exports and deletes every object type, checks each
// answer with the models' own Validate (required fields, enums, formats), and
// prints one line per step. Any error is fatal (exit 1).
//
// Usage: grafanaprovisioningpeer <host:port> <org>
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/go-openapi/strfmt"
	goapi "github.com/grafana/grafana-openapi-client-go/client"
	"github.com/grafana/grafana-openapi-client-go/client/provisioning"
	"github.com/grafana/grafana-openapi-client-go/models"
)

type validator interface {
	Validate(strfmt.Registry) error
}

func must(step string, err error) {
	if err != nil {
		fmt.Printf("FAIL %s: %v\n", step, err)
		os.Exit(1)
	}
}

func valid(step string, v validator) {
	must(step+" (validate)", v.Validate(strfmt.Default))
	fmt.Printf("ok %s\n", step)
}

func check(step string, cond bool, format string, args ...any) {
	if !cond {
		fmt.Printf("FAIL %s: %s\n", step, fmt.Sprintf(format, args...))
		os.Exit(1)
	}
}

func str(s string) *string { return &s }

func main() {
	if len(os.Args) != 3 {
		fmt.Println("usage: grafanaprovisioningpeer <host:port> <org>")
		os.Exit(2)
	}
	c := goapi.NewHTTPClientWithConfig(strfmt.Default, &goapi.TransportConfig{
		Host:        os.Args[1],
		BasePath:    "/api",
		Schemes:     []string{"http"},
		HTTPHeaders: map[string]string{"X-Scope-OrgID": os.Args[2]},
		NumRetries:  0,
	}).Provisioning

	// Mute timings.
	mt, err := c.PostMuteTiming(provisioning.NewPostMuteTimingParams().WithBody(&models.MuteTimeInterval{
		Name:          "weekends",
		TimeIntervals: []*models.TimeIntervalItem{{Weekdays: []string{"saturday", "sunday"}}},
	}))
	must("post mute timing", err)
	valid("post mute timing", mt.Payload)
	mts, err := c.GetMuteTimings()
	must("get mute timings", err)
	valid("get mute timings", mts.Payload)
	check("get mute timings", len(mts.Payload) == 1 && mts.Payload[0].Name == "weekends", "got %v", mts.Payload)
	mt1, err := c.GetMuteTiming("weekends")
	must("get mute timing", err)
	valid("get mute timing", mt1.Payload)
	upd, err := c.PutMuteTiming(provisioning.NewPutMuteTimingParams().WithName("weekends").WithBody(&models.MuteTimeInterval{
		Name:          "weekends",
		TimeIntervals: []*models.TimeIntervalItem{{Weekdays: []string{"saturday"}, Times: []*models.TimeIntervalTimeRange{{StartTime: "00:00", EndTime: "12:00"}}}},
	}))
	must("put mute timing", err)
	valid("put mute timing", upd.Payload)
	check("put mute timing", len(upd.Payload.TimeIntervals[0].Times) == 1, "times not updated: %v", upd.Payload.TimeIntervals)
	mtx, err := c.ExportMuteTiming(provisioning.NewExportMuteTimingParams().WithName("weekends").WithFormat(str("json")))
	must("export mute timing", err)
	valid("export mute timing", mtx.Payload)
	check("export mute timing", len(mtx.Payload.MuteTimes) == 1, "got %v", mtx.Payload)
	mtsx, err := c.ExportMuteTimings(provisioning.NewExportMuteTimingsParams().WithFormat(str("json")))
	must("export mute timings", err)
	valid("export mute timings", mtsx.Payload)

	// Templates.
	tp, err := c.PutTemplate(provisioning.NewPutTemplateParams().WithName("peer.tmpl").WithBody(&models.NotificationTemplateContent{Template: `{{ define "peer.tmpl" }}{{ len .Alerts }} alerts{{ end }}`}))
	must("put template", err)
	valid("put template", tp.Payload)
	tps, err := c.GetTemplates()
	must("get templates", err)
	valid("get templates", tps.Payload)
	tp1, err := c.GetTemplate("peer.tmpl")
	must("get template", err)
	valid("get template", tp1.Payload)
	check("get template", tp1.Payload.Version != "", "no version")

	// Contact points.
	cp, err := c.PostContactpoints(provisioning.NewPostContactpointsParams().WithBody(&models.EmbeddedContactPoint{
		Name: "peer-hook", Type: str("webhook"), Settings: map[string]any{"url": "http://127.0.0.1:9/peer", "httpMethod": "POST"},
	}))
	must("post contact point", err)
	valid("post contact point", cp.Payload)
	check("post contact point", cp.Payload.UID != "", "no uid")
	cps, err := c.GetContactpoints(provisioning.NewGetContactpointsParams().WithName(str("peer-hook")))
	must("get contact points", err)
	valid("get contact points", cps.Payload)
	check("get contact points", len(cps.Payload) == 1, "name filter: %d results", len(cps.Payload))
	_, err = c.PutContactpoint(provisioning.NewPutContactpointParams().WithUID(cp.Payload.UID).WithBody(&models.EmbeddedContactPoint{
		Name: "peer-hook", Type: str("webhook"), Settings: map[string]any{"url": "http://127.0.0.1:9/peer2"},
	}))
	must("put contact point", err)
	fmt.Println("ok put contact point")
	cpx, err := c.GetContactpointsExport(provisioning.NewGetContactpointsExportParams().WithFormat(str("json")))
	must("export contact points", err)
	valid("export contact points", cpx.Payload)

	// Policies.
	_, err = c.PutPolicyTree(provisioning.NewPutPolicyTreeParams().WithBody(&models.Route{
		Receiver: "peer-hook",
		GroupBy:  []string{"alertname"},
		Routes: []*models.Route{{
			Receiver:          "grafana-default-email",
			ObjectMatchers:    models.ObjectMatchers{models.ObjectMatcher{"team", "=", "peer"}},
			MuteTimeIntervals: []string{"weekends"},
		}},
	}))
	must("put policy tree", err)
	fmt.Println("ok put policy tree")
	pt, err := c.GetPolicyTree()
	must("get policy tree", err)
	valid("get policy tree", pt.Payload)
	check("get policy tree", pt.Payload.Receiver == "peer-hook" && len(pt.Payload.Routes) == 1, "got %+v", pt.Payload)
	ptx, err := c.GetPolicyTreeExport()
	must("export policy tree", err)
	valid("export policy tree", ptx.Payload)

	// Alert rules and groups.
	forDur := strfmt.Duration(5 * time.Minute)
	rule := &models.ProvisionedAlertRule{
		UID: "peer-rule", Title: str("Peer rule"), RuleGroup: str("peer-group"), FolderUID: str("peer-folder"), OrgID: func() *int64 { v := int64(1); return &v }(),
		Condition: str("B"), For: &forDur, NoDataState: str("NoData"), ExecErrState: str("Error"),
		Labels: map[string]string{"team": "peer"}, Annotations: map[string]string{"summary": "{{ $values.A }}"},
		Data: []*models.AlertQuery{
			{RefID: "A", DatasourceUID: "mimir", RelativeTimeRange: &models.RelativeTimeRange{From: 600, To: 0}, Model: map[string]any{"expr": "vector(1)", "instant": true}},
			{RefID: "B", DatasourceUID: "__expr__", Model: map[string]any{"type": "threshold", "expression": "A", "conditions": []any{map[string]any{"evaluator": map[string]any{"type": "gt", "params": []any{0}}}}}},
		},
	}
	ar, err := c.PostAlertRule(provisioning.NewPostAlertRuleParams().WithBody(rule))
	must("post alert rule", err)
	valid("post alert rule", ar.Payload)
	check("post alert rule", ar.Payload.Provenance == "api" && ar.Payload.For.String() == "5m0s", "got %+v", ar.Payload)
	ars, err := c.GetAlertRules()
	must("get alert rules", err)
	valid("get alert rules", ars.Payload)
	ar1, err := c.GetAlertRule("peer-rule")
	must("get alert rule", err)
	valid("get alert rule", ar1.Payload)
	rule.Title = str("Peer rule renamed")
	ar2, err := c.PutAlertRule(provisioning.NewPutAlertRuleParams().WithUID("peer-rule").WithBody(rule))
	must("put alert rule", err)
	valid("put alert rule", ar2.Payload)
	check("put alert rule", *ar2.Payload.Title == "Peer rule renamed", "title %q", *ar2.Payload.Title)
	arx, err := c.GetAlertRuleExport(provisioning.NewGetAlertRuleExportParams().WithUID("peer-rule").WithFormat(str("json")))
	must("export alert rule", err)
	valid("export alert rule", arx.Payload)
	check("export alert rule", len(arx.Payload.Groups) == 1 && len(arx.Payload.Groups[0].Rules) == 1, "got %+v", arx.Payload)
	grp, err := c.GetAlertRuleGroup("peer-group", "peer-folder")
	must("get rule group", err)
	valid("get rule group", grp.Payload)
	grp.Payload.Interval = 120
	grpu, err := c.PutAlertRuleGroup(provisioning.NewPutAlertRuleGroupParams().WithFolderUID("peer-folder").WithGroup("peer-group").WithBody(grp.Payload))
	must("put rule group", err)
	valid("put rule group", grpu.Payload)
	check("put rule group", grpu.Payload.Interval == 120, "interval %d", grpu.Payload.Interval)
	grpx, err := c.GetAlertRuleGroupExport(provisioning.NewGetAlertRuleGroupExportParams().WithFolderUID("peer-folder").WithGroup("peer-group").WithFormat(str("json")))
	must("export rule group", err)
	valid("export rule group", grpx.Payload)
	check("export rule group", grpx.Payload.Groups[0].Interval == "2m", "interval %q", grpx.Payload.Groups[0].Interval)
	allx, err := c.GetAlertRulesExport(provisioning.NewGetAlertRulesExportParams().WithFormat(str("json")))
	must("export alert rules", err)
	valid("export alert rules", allx.Payload)

	// A stale update is refused with 409 (typed as the client declares it).
	_, err = c.PutTemplate(provisioning.NewPutTemplateParams().WithName("peer.tmpl").WithBody(&models.NotificationTemplateContent{Template: "x", Version: "stale"}))
	_, isConflict := err.(*provisioning.PutTemplateConflict)
	check("stale template version", isConflict, "got %T %v", err, err)
	fmt.Println("ok stale template version")
	// A policy naming an unknown contact point is a 400.
	_, err = c.PutPolicyTree(provisioning.NewPutPolicyTreeParams().WithBody(&models.Route{Receiver: "nobody"}))
	bad, isBad := err.(*provisioning.PutPolicyTreeBadRequest)
	check("invalid policy", isBad && bad.Payload != nil && bad.Payload.Message != "", "got %T %v", err, err)
	fmt.Println("ok invalid policy")

	// Deletes.
	_, err = c.DeleteAlertRule(provisioning.NewDeleteAlertRuleParams().WithUID("peer-rule"))
	must("delete alert rule", err)
	fmt.Println("ok delete alert rule")
	_, err = c.ResetPolicyTree()
	must("reset policy tree", err)
	fmt.Println("ok reset policy tree")
	_, err = c.DeleteContactpoints(cp.Payload.UID)
	must("delete contact point", err)
	fmt.Println("ok delete contact point")
	_, err = c.DeleteTemplate(provisioning.NewDeleteTemplateParams().WithName("peer.tmpl"))
	must("delete template", err)
	fmt.Println("ok delete template")
	_, err = c.DeleteMuteTiming(provisioning.NewDeleteMuteTimingParams().WithName("weekends"))
	must("delete mute timing", err)
	fmt.Println("ok delete mute timing")
	left, err := c.GetAlertRules()
	must("get alert rules after delete", err)
	check("get alert rules after delete", len(left.Payload) == 0, "%d rules left", len(left.Payload))
	_, err = c.GetAlertRule("peer-rule")
	_, notFound := err.(*provisioning.GetAlertRuleNotFound)
	check("get deleted rule", notFound, "got %T %v", err, err)
	fmt.Println("ok get deleted rule")
	fmt.Println("DONE")
}
