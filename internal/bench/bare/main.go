// Command bare is the baseline of the outside benchmark (internal/bench/wrk.sh): a
// net/http server that checks the Authorization header against a key and answers a
// fixed body, which is the least any server answering the same request must do. It
// serves on 127.0.0.1 only and imports nothing of the module.
//
//	bare -addr 127.0.0.1:0 -key KEY -body FILE -type application/json
//
// It prints "listening ADDR" once it listens.
package main

import (
	"crypto/subtle"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	key := flag.String("key", "", "the API key every request must send")
	file := flag.String("body", "", "the file whose bytes every answer carries")
	ctype := flag.String("type", "application/json; charset=utf-8", "the Content-Type of the answer")
	flag.Parse()
	body, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(2)
	}
	fmt.Println("listening", ln.Addr())
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(*key)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", *ctype)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	fmt.Fprintln(os.Stderr, "bare:", http.Serve(ln, h))
	os.Exit(1)
}
