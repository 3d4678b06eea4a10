package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/admin"
	"github.com/caiquan/caiquan/config"
	"github.com/caiquan/caiquan/store"
	"github.com/caiquan/caiquan/store/bolt"
	"github.com/caiquan/caiquan/store/pebble"
	"github.com/caiquan/caiquan/store/postgres"
)

const storeUsage = `usage: caiquan store COMMAND [-store pebble|postgres] [-store-path DIR] [-postgres-url URL]

Commands (on a store no server runs on, or a checkpoint of one):
  check              read every record and every data block's checksum; exit 1 on damage
  export [-o FILE]   every record as JSON lines (standard output by default)
  import [-i FILE]   records from JSON lines (standard input by default), over what the
                     store has; every line is checked before any is written

-store, -store-path and -postgres-url default to CAIQUAN_STORE, CAIQUAN_STORE_PATH and
CAIQUAN_POSTGRES_URL, then to pebble and caiquan.db. Export reads a bbolt file of an earlier
release too. A running server holds its store: take a checkpoint first
(POST /store/checkpoint on the admin API, or caiquan admin checkpoint NAME) and read that.
`

// Line is one record in an export: the uid and the stored record.
type Line struct {
	UID    string       `json:"uid"`
	Record store.Record `json:"record"`
}

// records is what check, export and import need of a store.
type records interface {
	Each(fn func(uid string, rec caiquan.PlayerRecord, err error) error) error
	Put(uid string, rec caiquan.PlayerRecord) error
	Close() error
}

func runStore(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		io.WriteString(stderr, storeUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd := args[0]
	fs := flag.NewFlagSet("store "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("store", or(getenv("CAIQUAN_STORE"), config.StorePebble), "pebble or postgres")
	path := fs.String("store-path", or(getenv("CAIQUAN_STORE_PATH"), "caiquan.db"), "the pebble store's directory")
	url := fs.String("postgres-url", getenv("CAIQUAN_POSTGRES_URL"), "the PostgreSQL URL")
	out := fs.String("o", "", "export: write to this file instead of standard output")
	in := fs.String("i", "", "import: read this file instead of standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var err error
	switch cmd {
	case "check":
		err = storeCheck(*kind, *path, *url, log, stdout)
	case "export":
		err = storeExport(*kind, *path, *url, *out, log, stdout)
	case "import":
		err = storeImport(*kind, *path, *url, *in, log, stdout)
	default:
		fmt.Fprintf(stderr, "caiquan store: unknown command %q\n\n%s", cmd, storeUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "caiquan store %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func openRecords(kind, path, url string, readOnly bool, log *slog.Logger) (records, error) {
	switch kind {
	case config.StorePebble:
		return pebble.Open(path, pebble.Options{Log: log, ReadOnly: readOnly, SkipCheck: true})
	case config.StorePostgres:
		if url == "" {
			return nil, errors.New("-postgres-url is required with -store postgres")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return postgres.Open(ctx, url, postgres.Options{Log: log})
	}
	return nil, fmt.Errorf("-store must be pebble or postgres, got %q", kind)
}

func storeCheck(kind, path, url string, log *slog.Logger, stdout io.Writer) error {
	if kind == config.StorePebble {
		if bolt.IsFile(path) {
			return fmt.Errorf("%s is a bbolt file of an earlier release: start the server (it migrates it) or export it", path)
		}
		s, err := pebble.Open(path, pebble.Options{Log: log, ReadOnly: true, SkipCheck: true})
		if err != nil {
			return err
		}
		defer s.Close()
		rep, err := s.Check()
		if err != nil {
			return err
		}
		for _, d := range rep.Damaged {
			fmt.Fprintf(stdout, "damaged %q: %v\n", d.Key, d.Err)
		}
		fmt.Fprintf(stdout, "store %s: %d records, %d on the leaderboard, %d damaged; every data block's checksum verified\n",
			path, rep.Records, rep.Board, len(rep.Damaged))
		if len(rep.Damaged) > 0 {
			return fmt.Errorf("%d damaged keys: restore from a checkpoint or an export, or import the readable records into a new store", len(rep.Damaged))
		}
		return nil
	}
	s, err := openRecords(kind, path, url, true, log)
	if err != nil {
		return err
	}
	defer s.Close()
	n, bad := 0, 0
	err = s.Each(func(uid string, _ caiquan.PlayerRecord, err error) error {
		if err != nil {
			fmt.Fprintf(stdout, "damaged %q: %v\n", uid, err)
			bad++
		} else {
			n++
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "store postgres: %d records, %d damaged\n", n, bad)
	if bad > 0 {
		return fmt.Errorf("%d damaged records", bad)
	}
	return nil
}

func storeExport(kind, path, url, out string, log *slog.Logger, stdout io.Writer) (err error) {
	w := stdout
	if out != "" {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, f.Sync(), f.Close()) }()
		w = f
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	n, bad := 0, 0
	emit := func(uid string, rec caiquan.PlayerRecord, rerr error) error {
		if rerr != nil {
			bad++
			log.Error("store export: a damaged record is left out", "uid", uid, "err", rerr)
			return nil
		}
		n++
		return enc.Encode(Line{UID: uid, Record: store.ToRecord(rec, store.RecordVersion)})
	}
	if kind == config.StorePebble && bolt.IsFile(path) {
		old, err := bolt.Read(path)
		if err != nil {
			return err
		}
		for uid, rec := range old.Records {
			if err := emit(uid, rec, nil); err != nil {
				return err
			}
		}
	} else {
		s, err := openRecords(kind, path, url, true, log)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.Each(emit); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("exported %d records; %d damaged ones left out (named above)", n, bad)
	}
	return nil
}

func storeImport(kind, path, url, in string, log *slog.Logger, stdout io.Writer) error {
	r := io.Reader(os.Stdin)
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	// Every line is read and checked before the first is written: a bad
	// file changes nothing.
	var lines []Line
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for no := 1; sc.Scan(); no++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l Line
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return fmt.Errorf("line %d: %v (nothing imported)", no, err)
		}
		if l.UID == "" {
			return fmt.Errorf("line %d: no uid (nothing imported)", no)
		}
		if _, err := store.FromRecord(l.Record); err != nil {
			return fmt.Errorf("line %d (%s): %v (nothing imported)", no, l.UID, err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading: %v (nothing imported)", err)
	}
	s, err := openRecords(kind, path, url, false, log)
	if err != nil {
		return err
	}
	for i, l := range lines {
		rec, _ := store.FromRecord(l.Record)
		if err := s.Put(l.UID, rec); err != nil {
			s.Close()
			return fmt.Errorf("after %d of %d records: %w", i, len(lines), err)
		}
	}
	if err := s.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d records into %s\n", len(lines), where(kind, path))
	return nil
}

func where(kind, path string) string {
	if kind == config.StorePebble {
		return path
	}
	return "postgres"
}

// checkpoints makes the admin API's checkpoints of a pebble store in the
// directory STORE_PATH.checkpoints, one directory per name.
type checkpoints struct {
	s   *pebble.Store
	dir string
}

var _ admin.Checkpointer = checkpoints{}

func (c checkpoints) Checkpoint(name string) (string, error) {
	dest := filepath.Join(c.dir, name)
	if _, err := os.Stat(dest); err == nil {
		return "", admin.ErrCheckpointExists
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return "", err
	}
	return abs, c.s.Checkpoint(dest)
}
