package admin

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MinToken is the shortest admin token accepted, in bytes.
const MinToken = 32

// tokenFileMode lets an operators' group read the file, and nobody else.
const tokenFileMode = 0o640

// NewToken makes a token of 32 random bytes, URL-safe base64 (43 bytes).
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("admin: make a token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidToken reports why tok cannot be an admin token, or nil: it goes
// into an Authorization header, so it must be printable ASCII without
// spaces, and long enough not to be guessed.
func ValidToken(tok string) error {
	if len(tok) < MinToken {
		return fmt.Errorf("a token must be at least %d bytes, this one has %d", MinToken, len(tok))
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] > '~' {
			return errors.New("a token must be printable ASCII without spaces")
		}
	}
	return nil
}

// LoadOrCreateToken returns the token kept in path, or, when there is no
// such file, makes one and writes it there with mode 0640. made says which.
// A file that exists but holds no valid token, or that every user of the
// machine may read, is an error: it is the operator's to fix, not ours to
// overwrite. Servers that start at once on one file end with one token:
// the file appears whole (a hard link of a finished file) or not at all.
func LoadOrCreateToken(path string) (tok string, made bool, err error) {
	tok, err = readTokenFile(path, true)
	if !errors.Is(err, fs.ErrNotExist) {
		return tok, false, err
	}
	if tok, err = NewToken(); err != nil {
		return "", false, err
	}
	switch err := writeNew(path, tok); {
	case errors.Is(err, fs.ErrExist):
		tok, err = readTokenFile(path, true) // another server was first
		return tok, false, err
	case err != nil:
		return "", false, fmt.Errorf("admin_token_file %s: %w", path, err)
	}
	return tok, true, nil
}

// ReadTokenFile returns the token kept in path (for `caiquan admin`).
func ReadTokenFile(path string) (string, error) { return readTokenFile(path, false) }

func readTokenFile(path string, checkMode bool) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err // fs.ErrNotExist stays visible
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("admin_token_file %s: %w", path, err)
	}
	if checkMode && st.Mode().Perm()&0o007 != 0 {
		return "", fmt.Errorf("admin_token_file %s may be read by every user of this machine (mode %#o): `chmod o-rwx` it, or delete it and a new token is made", path, st.Mode().Perm())
	}
	buf := make([]byte, 1024)
	n, _ := f.Read(buf)
	tok := strings.TrimSpace(string(buf[:n]))
	if err := ValidToken(tok); err != nil {
		return "", fmt.Errorf("admin_token_file %s holds no valid token (%v); delete it and a new one is made", path, err)
	}
	return tok, nil
}

// writeNew writes tok to path unless path exists (fs.ErrExist).
func writeNew(path, tok string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".admin-token-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(tok + "\n")
	if err == nil {
		err = tmp.Chmod(tokenFileMode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	// A file system without hard links: create it exclusively instead.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, tokenFileMode)
	if err != nil {
		return err
	}
	_, err = f.WriteString(tok + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
