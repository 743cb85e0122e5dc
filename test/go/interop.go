// An independent check of kenbaar's transparency log with Go's reference packages
// (golang.org/x/mod/sumdb/note and .../tlog). Run by test/interop-go.test.ts:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run test/go/interop.go <dir>
//
// <dir> holds what a client fetched from the hub: vkey, checkpoint, tiles (C2SP paths), the
// tlog-proof of one entry with its leaf hash from the receipt, one entry bundle, and an older
// checkpoint to prove consistency from. Prints "ok" or exits non-zero naming what failed.
package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		// Go's sumdb paths carry the tile height (tile/8/L/N); C2SP tlog-tiles drops it.
		p := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		data, err := os.ReadFile(filepath.Join(d.dir, p))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func read(dir, name string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		fail("read %s: %v", name, err)
	}
	return b
}

// openCheckpoint verifies the note with the log's key and parses origin, size and root.
func openCheckpoint(v note.Verifier, msg []byte) (int64, tlog.Hash) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != v.Name() {
		fail("checkpoint origin %q is not the key name %q", lines[0], v.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("size: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		fail("root: %v", err)
	}
	var h tlog.Hash
	copy(h[:], raw)
	return size, h
}

func hash(s string) tlog.Hash {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(raw) != tlog.HashSize {
		fail("bad hash %q", s)
	}
	var h tlog.Hash
	copy(h[:], raw)
	return h
}

func main() {
	dir := os.Args[1]
	v, err := note.NewVerifier(strings.TrimSpace(string(read(dir, "vkey"))))
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}
	size, root := openCheckpoint(v, read(dir, "checkpoint"))
	tree := tlog.Tree{N: size, Hash: root}
	thr := tlog.TileHashReader(tree, dirTiles{dir})

	// The whole tree from the tiles.
	th, err := tlog.TreeHash(size, thr)
	if err != nil || th != root {
		fail("TreeHash from tiles: %v (%v != %v)", err, th, root)
	}

	// The tlog-proof the hub served, checked as is, and an inclusion proof Go computes from tiles.
	proof := strings.Split(string(read(dir, "proof")), "\n")
	if proof[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(proof[1], "index ") {
		fail("not a tlog-proof: %q", proof[0])
	}
	index, _ := strconv.ParseInt(strings.TrimPrefix(proof[1], "index "), 10, 64)
	var path tlog.RecordProof
	i := 2
	for ; proof[i] != ""; i++ {
		path = append(path, hash(proof[i]))
	}
	psize, proot := openCheckpoint(v, []byte(strings.Join(proof[i+1:], "\n")))
	leaf := hash(string(read(dir, "leaf")))
	if err := tlog.CheckRecord(path, psize, proot, index, leaf); err != nil {
		fail("CheckRecord (served proof): %v", err)
	}
	mine, err := tlog.ProveRecord(size, index, thr)
	if err != nil {
		fail("ProveRecord: %v", err)
	}
	if err := tlog.CheckRecord(mine, size, root, index, leaf); err != nil {
		fail("CheckRecord (own proof): %v", err)
	}

	// Consistency with an older checkpoint.
	oldSize, oldRoot := openCheckpoint(v, read(dir, "old-checkpoint"))
	tp, err := tlog.ProveTree(size, oldSize, thr)
	if err != nil {
		fail("ProveTree: %v", err)
	}
	if err := tlog.CheckTree(tp, size, root, oldSize, oldRoot); err != nil {
		fail("CheckTree: %v", err)
	}

	// Every entry of bundle 0 hashes (RFC 6962 RecordHash) to its leaf in the tree.
	bundle := read(dir, "tile/entries/000")
	for k := int64(0); len(bundle) > 0; k++ {
		n := int(bundle[0])<<8 | int(bundle[1])
		entry := bundle[2 : 2+n]
		bundle = bundle[2+n:]
		hs, err := thr.ReadHashes([]int64{tlog.StoredHashIndex(0, k)})
		if err != nil {
			fail("ReadHashes: %v", err)
		}
		if tlog.RecordHash(entry) != hs[0] {
			fail("entry %d does not hash to its leaf", k)
		}
	}
	fmt.Println("ok")
}
