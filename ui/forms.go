package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate/client"
)

// form is a form shown again after the API refused it: what was typed,
// and the problem, next to the field it is about. Each page has at most
// one form with fields, so a page needs no more than one. Its methods
// answer "" on a nil form, the form of a page shown afresh.
type form struct {
	values url.Values
	// field is the form's field the problem is about; "" puts the
	// problem at the top of the form.
	field, problem string
}

// Get is the value typed in field.
func (f *form) Get(field string) string {
	if f == nil {
		return ""
	}
	return f.values.Get(field)
}

// Err is the problem with field; "" when it has none.
func (f *form) Err(field string) string {
	if f == nil || f.field == "" || f.field != field {
		return ""
	}
	return f.problem
}

// General is a problem of the whole form, one no field of it is about.
func (f *form) General() string {
	if f == nil || f.field != "" {
		return ""
	}
	return f.problem
}

// refusal is the API's answer to a form it refused.
type refusal struct {
	status  int
	param   string
	message string
}

// refused reads err as the API's answer to a form it refused; ok is false
// when it is not one: an error of the dashboard itself, or a 401 (the
// session's key is no longer valid), which fail handles.
func refused(err error) (r refusal, ok bool) {
	var e *client.Error
	if !errors.As(err, &e) || e.Status == http.StatusUnauthorized {
		return refusal{}, false
	}
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	return refusal{status: e.Status, param: e.Parameter, message: msg}, true
}

// formOf is the form shown again after r: values as typed (less those
// named in secret, which a page never echoes), the problem next to the
// field fieldOf maps the API's parameter to ("": the top of the form).
func formOf(values url.Values, r refusal, fieldOf func(param string) string, secret ...string) *form {
	kept := url.Values{}
	for k, v := range values {
		kept[k] = v
	}
	for _, s := range append(secret, "csrf") {
		kept.Del(s)
	}
	f := &form{values: kept, problem: r.message}
	if r.param != "" && fieldOf != nil {
		f.field = fieldOf(r.param)
	}
	return f
}

// fieldsNamed maps an API parameter to the field of the same name, or to
// the one it is a part of ("credentials.botToken" is about credentials,
// "events[2]" about events); "" when it is about none of fields.
func fieldsNamed(fields ...string) func(param string) string {
	return func(param string) string {
		for _, f := range fields {
			if param == f || strings.HasPrefix(param, f+".") || strings.HasPrefix(param, f+"[") {
				return f
			}
		}
		return ""
	}
}

// list splits a comma-separated field into its trimmed, non-empty items;
// it is not nil, so that an empty field clears a list in an update.
func list(v string) []string {
	out := []string{}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// input is a field of a form with its label and problem, for the "input"
// template (templates/fields.html): made in a page by
// {{template "input" (input $.Form "url" "URL" "type=url" "required")}}.
type input struct {
	// ID is the input's id, Name its field in the form.
	ID, Name, Label string
	// Value is what was typed; never set for a password.
	Value, Problem string
	// Type, Placeholder, Pattern, Autocomplete and List are the
	// attributes of the same names, "" for none.
	Type, Placeholder, Pattern, Autocomplete, List string
	// Autofocus is set for the page's first field, and on a field with a
	// problem.
	Required, Autofocus bool
	// Rows is a textarea's height in lines (the "textarea" template).
	Rows int
}

// newInput makes an input of f's field name, labelled label; each option
// is "required", "autofocus", "id=…", "type=…", "placeholder=…", "pattern=…",
// "autocomplete=…", "list=…" or, for a textarea, "rows=…".
func newInput(f *form, name, label string, options ...string) (input, error) {
	in := input{ID: name, Name: name, Label: label, Problem: f.Err(name)}
	for _, o := range options {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "required":
			in.Required = true
		case "autofocus":
			in.Autofocus = true
		case "id":
			in.ID = v
		case "type":
			in.Type = v
		case "placeholder":
			in.Placeholder = v
		case "pattern":
			in.Pattern = v
		case "autocomplete":
			in.Autocomplete = v
		case "list":
			in.List = v
		case "rows":
			n, err := strconv.Atoi(v)
			if err != nil {
				return input{}, fmt.Errorf("input %s: rows %q", name, v)
			}
			in.Rows = n
		default:
			return input{}, fmt.Errorf("input %s: no option %q", name, o)
		}
	}
	if in.Type != "password" {
		in.Value = f.Get(name)
	}
	return in, nil
}
