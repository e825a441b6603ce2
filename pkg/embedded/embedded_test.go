package embedded

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// selfSigned writes a certificate for 127.0.0.1 and its key; the
// certificate is its own CA.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "newswatch-test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

func TestBeyondLoopbackNeedsAuthAndTLS(t *testing.T) {
	cert, key := selfSigned(t)
	tests := []struct {
		name string
		opts []Option
	}{
		{"nothing", nil},
		{"token without TLS", []Option{WithToken("s3cret")}},
		{"TLS without auth", []Option{WithTLS(cert, key)}},
		{"user without password", []Option{WithUser("nw", ""), WithTLS(cert, key)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Start("0.0.0.0:0", t.TempDir(), tt.opts...)
			if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "nats.token_file") {
				t.Errorf("err = %v, want ErrInsecure naming the keys", err)
			}
		})
	}
}

func TestTokenAndTLS(t *testing.T) {
	cert, key := selfSigned(t)
	srv, err := Start("0.0.0.0:0", t.TempDir(), WithToken("s3cret"), WithTLS(cert, key))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	url := srv.ClientURL()
	if !strings.HasPrefix(url, "tls://") {
		t.Errorf("client URL %s is not tls://", url)
	}
	if nc, err := nats.Connect(url, nats.RootCAs(cert)); err == nil {
		nc.Close()
		t.Error("connected without the token")
	}
	nc, err := nats.Connect(url, nats.RootCAs(cert), nats.Token("s3cret"))
	if err != nil {
		t.Fatalf("with token and CA: %v", err)
	}
	defer nc.Close()
	if _, err := nc.JetStream(); err != nil {
		t.Error(err)
	}
}

func TestLoopbackNeedsNothing(t *testing.T) {
	srv, err := Start("127.0.0.1:0", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
}

// A port in use fails Start with the server's own reason and the fix, not
// a timeout and a guess.
func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv, err := Start(ln.Addr().String(), t.TempDir())
	if err == nil {
		srv.Shutdown()
		t.Fatal("Start on a port in use succeeded")
	}
	for _, want := range []string{"address already in use", "nats.listen " + ln.Addr().String() + " is in use", "nats.url"} {
		if !errors.Is(err, ErrStart) || !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// A store directory that cannot be created fails Start with the reason.
func TestStoreDirUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := Start("127.0.0.1:0", filepath.Join(file, "store"))
	if err == nil {
		srv.Shutdown()
		t.Fatal("Start with a store under a file succeeded")
	}
	if !errors.Is(err, ErrStart) || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("error %q does not give the reason", err)
	}
}
