// Command mps is the MPS media server: `mps serve` runs the live server,
// `mps version` prints the version. Run `mps --help` for usage.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"mps/internal/auth"
	"mps/internal/config"
	"mps/server"
)

const usage = `MPS — live streaming media server with recording and media processing.

Usage:
  mps [serve] [-c FILE]   run the server (default command). Without -c it
                          reads ./mps.yaml when present, else built-in defaults
                          (identical to configs/mps.yaml). MPS_<SECTION>_<KEY>
                          environment variables override any key.
  mps process INPUT -o DIR (-t TEMPLATE | --op JSON | --scheme NAME)...
                          run operations on a file locally (see mps process -h)
  mps hash-password [-digest-user NAME]
                          read a password on stdin, print its argon2id hash
                          for auth.users[].pass; with -digest-user also the
                          realm hash for auth.users[].digest (RTSP Digest)
  mps version             print the version
  mps --help              this help

Signals: SIGHUP reloads the config file (it is also watched for changes);
SIGINT/SIGTERM shut down gracefully.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process exit, so the CLI can be tested.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stderr)
	case "process":
		return process(args, stdout, stderr)
	case "hash-password":
		return hashPassword(args, os.Stdin, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "mps", server.Version)
		return 0
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "mps: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// hashPassword reads one line from in (never the command line, where
// shells keep it) and prints its argon2id PHC string, and with
// -digest-user the user's realm hash on a second line.
func hashPassword(args []string, in io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hash-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	digestUser := fs.String("digest-user", "", "also print the realm hash of this user's password for auth.users[].digest")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	pass := strings.TrimRight(line, "\r\n")
	if pass == "" {
		fmt.Fprintf(stderr, "mps hash-password: no password on stdin (%v)\n", err)
		return 2
	}
	h, err := auth.HashPassword(pass)
	if err != nil {
		fmt.Fprintf(stderr, "mps hash-password: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, h)
	if *digestUser != "" {
		fmt.Fprintln(stdout, auth.DigestHA1(*digestUser, pass))
	}
	return 0
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	file := fs.String("c", "", "config file (default ./mps.yaml if present, else built-in defaults)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg, used, err := config.LoadOrDefault(*file)
	if err != nil {
		fmt.Fprintln(stderr, "mps:", err)
		return 1
	}
	level := new(slog.LevelVar)
	level.Set(cfg.Log.SlogLevel())
	log := slog.New(cfg.Log.Handler(stderr, level))
	if used == "" {
		used = "built-in defaults"
	}
	log.Info("starting mps", "version", server.Version, "config", used)

	srv := server.New(cfg, log)
	if err := srv.Start(); err != nil {
		log.Error("start failed", "error", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	watchDone := make(chan struct{})
	var watcher *config.Watcher
	if used != "built-in defaults" {
		watcher = config.NewWatcher(used, log.With("component", "config"), func(c *config.Config) {
			level.Set(c.Log.SlogLevel()) // log.level is hot; the handler reads the var
			srv.Reload(c)
		})
		go func() {
			defer close(watchDone)
			if err := watcher.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("config watcher stopped", "error", err)
			}
		}()
	} else {
		close(watchDone)
	}

	for {
		select {
		case <-hup:
			if watcher == nil {
				log.Info("SIGHUP: no config file to reload")
				continue
			}
			if err := watcher.Reload(); err != nil {
				log.Error("config reload rejected, keeping the running config", "error", err)
			}
			continue
		case <-ctx.Done():
		}
		break
	}
	log.Info("shutting down")
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		log.Warn("shutdown took longer than 5 s; exiting anyway")
	}
	<-watchDone
	log.Info("stopped")
	return 0
}
