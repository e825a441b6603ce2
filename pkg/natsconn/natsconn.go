// Package natsconn connects newswatch's workers and CLI to NATS with the
// credentials a production server asks for: a credentials file (JWT + nkey),
// an nkey seed, user/password or a token, and TLS with client certificates.
package natsconn

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/newswatch/newswatch/pkg/config"
)

// ErrConnect is wrapped by every connection failure.
var ErrConnect = errors.New("natsconn: cannot connect to NATS")

// Options turns the nats: section of the config into nats.go options.
// Secrets are read from files here and never logged.
func Options(c config.NATS, name string, logger *slog.Logger) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				logger.Warn("disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { logger.Info("reconnected to NATS", "server", nc.ConnectedUrlRedacted()) }),
	}
	if c.CredentialsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredentialsFile))
	}
	if c.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(c.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("%w: nats.nkey_seed_file %s: %v", ErrConnect, c.NKeySeedFile, err)
		}
		opts = append(opts, o)
	}
	password, err := secret(c.Password, c.PasswordFile, "nats.password_file")
	if err != nil {
		return nil, err
	}
	if c.User != "" {
		opts = append(opts, nats.UserInfo(c.User, password))
	}
	token, err := secret(c.Token, c.TokenFile, "nats.token_file")
	if err != nil {
		return nil, err
	}
	if token != "" {
		opts = append(opts, nats.Token(token))
	}
	if c.TLS.CAFile != "" {
		opts = append(opts, nats.RootCAs(c.TLS.CAFile))
	}
	if c.TLS.CertFile != "" || c.TLS.KeyFile != "" {
		if c.TLS.CertFile == "" || c.TLS.KeyFile == "" {
			return nil, fmt.Errorf("%w: set both nats.tls.cert_file and nats.tls.key_file for a client certificate", ErrConnect)
		}
		opts = append(opts, nats.ClientCert(c.TLS.CertFile, c.TLS.KeyFile))
	}
	return opts, nil
}

// Connect dials url with the options of c.
func Connect(url string, c config.NATS, name string, logger *slog.Logger) (*nats.Conn, error) {
	opts, err := Options(c, name, logger)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v (is the server running? check nats.url or NEWSWATCH_NATS_URL)", ErrConnect, redact(url), err)
	}
	return nc, nil
}

// Credentials resolves the user, password and token of c, reading the
// *_file keys; the embedded server requires the same ones.
func Credentials(c config.NATS) (user, password, token string, err error) {
	if password, err = secret(c.Password, c.PasswordFile, "nats.password_file"); err != nil {
		return "", "", "", err
	}
	if token, err = secret(c.Token, c.TokenFile, "nats.token_file"); err != nil {
		return "", "", "", err
	}
	return c.User, password, token, nil
}

func secret(value, file, key string) (string, error) {
	if file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%w: %s: cannot read %s: %v", ErrConnect, key, file, errors.Unwrap(err))
	}
	return strings.TrimSpace(string(b)), nil
}

// redact drops user info from a NATS URL before it reaches a log or error.
func redact(url string) string {
	if at := strings.LastIndex(url, "@"); at >= 0 {
		if scheme := strings.Index(url, "://"); scheme >= 0 && scheme < at {
			return url[:scheme+3] + "[redacted]@" + url[at+1:]
		}
	}
	return url
}
