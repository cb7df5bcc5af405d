// Command templatego renders Go text/template cases for the template engine's
// differential test: it reads a JSON array of cases on stdin and writes a JSON
// array of results (output or error text) on stdout.
package main

import (
	"encoding/json"
	"os"
	"strings"
	"text/template"
	"time"
)

type tcase struct {
	Text       string           `json:"text"`
	Defs       []string         `json:"defs"`
	Data       any              `json:"data"`
	MissingKey string           `json:"missingKey"`
	Times      map[string]int64 `json:"times"`
	Durs       map[string]int64 `json:"durs"`
}

type result struct {
	Out      string `json:"out"`
	ParseErr string `json:"parseErr,omitempty"`
	ExecErr  string `json:"execErr,omitempty"`
}

func main() {
	var cases []tcase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	funcs := template.FuncMap{
		"upper": strings.ToUpper,
		"join": func(sep string, s []any) string {
			parts := make([]string, len(s))
			for i, v := range s {
				parts[i] = v.(string)
			}
			return strings.Join(parts, sep)
		},
		"fail": func() (string, error) { return "", os.ErrNotExist },
		// Alertmanager's tz and date (template.DefaultFuncs).
		"tz": func(name string, t time.Time) (time.Time, error) {
			loc, err := time.LoadLocation(name)
			if err != nil {
				return time.Time{}, err
			}
			return t.In(loc), nil
		},
		"date": func(f string, t time.Time) string { return t.Format(f) },
	}
	results := make([]result, len(cases))
	for i, c := range cases {
		t := template.New("t").Funcs(funcs)
		if c.MissingKey != "" {
			t = t.Option("missingkey=" + c.MissingKey)
		}
		var err error
		for j, d := range c.Defs {
			if _, err = t.New("def" + string(rune('a'+j))).Parse(d); err != nil {
				break
			}
		}
		if err == nil {
			_, err = t.Parse(c.Text)
		}
		if err != nil {
			results[i] = result{ParseErr: err.Error()}
			continue
		}
		data := c.Data
		if len(c.Times) > 0 || len(c.Durs) > 0 {
			m := map[string]any{}
			if dm, ok := c.Data.(map[string]any); ok {
				for k, v := range dm {
					m[k] = v
				}
			}
			for k, v := range c.Times {
				m[k] = time.UnixMilli(v).UTC()
			}
			for k, v := range c.Durs {
				m[k] = time.Duration(v)
			}
			data = m
		}
		var sb strings.Builder
		if err := t.ExecuteTemplate(&sb, "t", data); err != nil {
			results[i] = result{Out: sb.String(), ExecErr: err.Error()}
			continue
		}
		results[i] = result{Out: sb.String()}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(results); err != nil {
		panic(err)
	}
}
