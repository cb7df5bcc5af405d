"""Round trip of every provisioning object type with PyPI's grafana-client.

Usage: roundtrip.py <base url> <org>. Prints one "ok <step>" line per step and
"DONE" at the end; the first failure prints "FAIL <step>: <reason>" and exits 1.
"""

import sys

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, HeaderAuth


def main() -> None:
    url, org = sys.argv[1], sys.argv[2]
    api = GrafanaApi.from_url(url, credential=HeaderAuth("X-Scope-OrgID", org))
    p = api.alertingprovisioning
    step = "start"

    def ok(name, cond=True, detail=""):
        if not cond:
            print(f"FAIL {name}: {detail}")
            sys.exit(1)
        print(f"ok {name}")

    try:
        step = "create mute timing"
        mt = p.create_mute_timing({"name": "py-weekends", "time_intervals": [{"weekdays": ["saturday", "sunday"]}]})
        ok(step, mt["name"] == "py-weekends" and mt["provenance"] == "api", mt)
        step = "get mute timings"
        ok(step, [m["name"] for m in p.get_mute_timings()] == ["py-weekends"])
        step = "update mute timing"
        mt = p.update_mute_timing("py-weekends", {"name": "py-weekends", "time_intervals": [{"weekdays": ["sunday"]}]})
        ok(step, mt["time_intervals"] == [{"weekdays": ["sunday"]}], mt)
        step = "get mute timing"
        ok(step, p.get_mute_timing("py-weekends")["time_intervals"][0]["weekdays"] == ["sunday"])

        step = "create template"
        tp = p.create_or_update_template("py.tmpl", {"template": '{{ define "py.tmpl" }}hello{{ end }}'})
        ok(step, tp["name"] == "py.tmpl" and tp["version"] != "", tp)
        step = "get template"
        ok(step, p.get_template("py.tmpl")["template"] == '{{ define "py.tmpl" }}hello{{ end }}')
        step = "get templates"
        ok(step, [t["name"] for t in p.get_templates()] == ["py.tmpl"])

        step = "create contact point"
        cp = p.create_contactpoint({"name": "py-hook", "type": "webhook", "settings": {"url": "http://127.0.0.1:9/py"}})
        ok(step, cp["uid"] != "" and cp["type"] == "webhook", cp)
        step = "update contact point"
        r = p.update_contactpoint(cp["uid"], {"name": "py-hook", "type": "webhook", "settings": {"url": "http://127.0.0.1:9/py2"}})
        ok(step, r == {"message": "contactpoint updated"}, r)
        step = "get contact points by name"
        cps = p.get_contactpoints(name="py-hook")
        ok(step, len(cps) == 1 and cps[0]["settings"]["url"] == "http://127.0.0.1:9/py2", cps)

        step = "set policy tree"
        r = p.set_notification_policy_tree({"receiver": "py-hook", "group_by": ["alertname"], "routes": [{"receiver": "grafana-default-email", "object_matchers": [["team", "=", "py"]], "mute_time_intervals": ["py-weekends"]}]})
        ok(step, r == {"message": "policies updated"}, r)
        step = "get policy tree"
        tree = p.get_notification_policy_tree()
        ok(step, tree["receiver"] == "py-hook" and tree["routes"][0]["object_matchers"] == [["team", "=", "py"]], tree)

        rule = {
            "uid": "py-rule",
            "title": "Python rule",
            "ruleGroup": "py-group",
            "folderUID": "py-folder",
            "orgID": 1,
            "condition": "B",
            "for": "1m",
            "noDataState": "OK",
            "execErrState": "Error",
            "labels": {"team": "py"},
            "data": [
                {"refId": "A", "datasourceUid": "mimir", "relativeTimeRange": {"from": 300, "to": 0}, "model": {"expr": "vector(1)", "instant": True}},
                {"refId": "B", "datasourceUid": "__expr__", "relativeTimeRange": {"from": 0, "to": 0}, "model": {"type": "math", "expression": "$A > 0"}},
            ],
        }
        step = "create alert rule"
        ar = p.create_alertrule(rule)
        ok(step, ar["uid"] == "py-rule" and ar["for"] == "1m" and ar["provenance"] == "api", ar)
        step = "get alert rule"
        ok(step, p.get_alertrule("py-rule")["title"] == "Python rule")
        step = "update alert rule"
        ar = p.update_alertrule("py-rule", dict(rule, title="Python rule 2"))
        ok(step, ar["title"] == "Python rule 2", ar)
        step = "get all alert rules"
        ok(step, [r["uid"] for r in p.get_alertrules_all()] == ["py-rule"])
        step = "get rule group"
        g = p.get_rule_group("py-folder", "py-group")
        ok(step, g["interval"] == 60 and len(g["rules"]) == 1, g)
        step = "update rule group"
        g["interval"] = 120
        g = p.update_rule_group("py-folder", "py-group", g)
        ok(step, g["interval"] == 120, g)

        step = "invalid rule is refused"
        try:
            p.create_alertrule(dict(rule, uid="py-bad", condition="Z"))
            ok(step, False, "accepted")
        except GrafanaClientError as e:
            ok(step, e.status_code == 400 and "condition Z does not exist" in str(e), str(e))

        step = "delete alert rule"
        p.delete_alertrule("py-rule")
        ok(step, p.get_alertrules_all() == [])
        step = "reset policy tree"
        p.delete_notification_policy_tree()
        ok(step, p.get_notification_policy_tree()["receiver"] == "grafana-default-email")
        step = "delete contact point"
        p.delete_contactpoint(cp["uid"])
        ok(step, p.get_contactpoints(name="py-hook") == [])
        step = "delete template"
        p.delete_template("py.tmpl")
        ok(step, p.get_templates() == [])
        step = "delete mute timing"
        p.delete_mute_timing("py-weekends")
        ok(step, p.get_mute_timings() == [])
    except Exception as e:  # noqa: BLE001 - any client error fails the step
        print(f"FAIL {step}: {type(e).__name__}: {e}")
        sys.exit(1)
    print("DONE")


if __name__ == "__main__":
    main()
