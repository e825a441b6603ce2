package email

import (
	"fmt"
	"log/slog"
)

// String describes the config without the password.
func (c Config) String() string {
	pw := "none"
	switch {
	case c.Password != "":
		pw = "[redacted]"
	case c.PasswordFile != "":
		pw = "file:" + c.PasswordFile
	case c.PasswordEnv != "":
		pw = "env:" + c.PasswordEnv
	}
	return fmt.Sprintf("email %q host=%s port=%d username=%q password=%s from=%q to=%q starttls=%q", c.Name, c.Host, c.Port, c.Username, pw, c.From, c.To, c.StartTLS)
}

// GoString keeps %#v from printing the fields.
func (c Config) GoString() string { return c.String() }

// LogValue logs the config as String does.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String names the sink and its server; the password stays private.
func (e *Email) String() string { return fmt.Sprintf("email %q via %s", e.name, e.addr) }

// GoString keeps %#v from printing the password.
func (e *Email) GoString() string { return e.String() }

// LogValue logs the sink as String does.
func (e *Email) LogValue() slog.Value { return slog.StringValue(e.String()) }
