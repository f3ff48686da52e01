package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream names. Tasks go to mps.tasks.<priority>; one durable pull
// consumer per priority lets workers take high before normal before low.
const (
	streamName    = "MPS_TASKS"
	bucketName    = "MPS_TASK_STATE"
	subjectPrefix = "mps.tasks."
	eventPrefix   = "mps.events."
	cancelPrefix  = "mps.cancel."
)

var priorities = []string{"high", "normal", "low"}

func prioritySubject(p int) string {
	switch {
	case p > 0:
		return subjectPrefix + "high"
	case p < 0:
		return subjectPrefix + "low"
	}
	return subjectPrefix + "normal"
}

// ErrNotFound is returned for an unknown task or scheme.
var ErrNotFound = errors.New("not found")

// connect starts the embedded server (unless a URL is configured) and sets
// up the stream, consumers and bucket. The connection reconnects for ever:
// to the external servers, or to the embedded one, which the store monitor
// restarts if it stops (see store.go).
func (s *Service) connect(ctx context.Context) error {
	var err error
	opts := []nats.Option{nats.Name(s.node), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	if s.cfg.NATS.URL == "" {
		if err := s.startEmbedded(); err != nil {
			return err
		}
		opts = append(opts, nats.InProcessServer(embedded{s}))
		if s.cfg.NATS.Listen != "" && s.cfg.NATSAuth != nil {
			opts = append(opts, nats.Token(s.natsToken))
		}
		s.nc, err = nats.Connect("", opts...)
	} else {
		s.nc, err = nats.Connect(s.cfg.NATS.URL, opts...)
	}
	if err != nil {
		return fmt.Errorf("nats connect: %w", err)
	}
	s.js, err = jetstream.New(s.nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	return s.ensureStore(ctx)
}

// embeddedOptions are the embedded server's options; a listen port of 0
// is the port picked at the first start, so other nodes find a restarted
// server where it was.
func (s *Service) embeddedOptions() (*server.Options, error) {
	opts := &server.Options{
		ServerName: "mps-" + sanitize(s.node),
		JetStream:  true,
		StoreDir:   s.cfg.NATS.StoreDir,
		NoSigs:     true,
		NoLog:      true,
		DontListen: true,
	}
	if s.cfg.NATS.Listen == "" {
		return opts, nil
	}
	host, port, err := net.SplitHostPort(s.cfg.NATS.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen %q: %w", s.cfg.NATS.Listen, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("nats listen port %q: %w", port, err)
	}
	if p == 0 {
		p = server.RANDOM_PORT
		if s.natsPort != 0 {
			p = s.natsPort
		}
	}
	opts.DontListen, opts.Host, opts.Port = false, host, p
	if s.cfg.NATSAuth != nil {
		opts.CustomClientAuthentication = natsDoor{s: s, localToken: s.natsToken, authorize: s.cfg.NATSAuth}
	}
	return opts, nil
}

// startEmbedded starts (or restarts) the embedded server.
func (s *Service) startEmbedded() error {
	opts, err := s.embeddedOptions()
	if err != nil {
		return err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("embedded nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(15 * time.Second) {
		ns.Shutdown()
		return fmt.Errorf("embedded nats did not start")
	}
	if a, ok := ns.Addr().(*net.TCPAddr); ok && opts.Port == server.RANDOM_PORT {
		s.natsPort = a.Port
	}
	s.nsMu.Lock()
	s.ns = ns
	s.nsMu.Unlock()
	return nil
}

// embedded gives the client connection the current embedded server, so it
// reconnects to a restarted one.
type embedded struct{ s *Service }

// InProcessConn implements nats.InProcessConnProvider.
func (e embedded) InProcessConn() (net.Conn, error) {
	ns := e.s.embeddedServer()
	if ns == nil {
		return nil, fmt.Errorf("embedded nats is not running")
	}
	return ns.InProcessConn()
}

func (s *Service) embeddedServer() *server.Server {
	s.nsMu.Lock()
	defer s.nsMu.Unlock()
	return s.ns
}

// ensureStore creates the stream, consumers and bucket, or finds them as
// they are (all idempotent), so it also repairs a store that lost them.
func (s *Service) ensureStore(ctx context.Context) error {
	if _, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       streamName,
		Subjects:   []string{subjectPrefix + "*"},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Duplicates: 2 * time.Minute,
	}); err != nil {
		return fmt.Errorf("task stream: %w", err)
	}
	consumers := make([]jetstream.Consumer, 0, len(priorities))
	for _, p := range priorities {
		c, err := s.js.CreateOrUpdateConsumer(ctx, streamName, jetstream.ConsumerConfig{
			Durable:       "workers-" + p,
			FilterSubject: subjectPrefix + p,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       s.cfg.AckWait,
			MaxAckPending: 10000,
		})
		if err != nil {
			return fmt.Errorf("task consumer %s: %w", p, err)
		}
		consumers = append(consumers, c)
	}
	kv, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucketName, Storage: jetstream.FileStorage})
	if err != nil {
		return fmt.Errorf("task bucket: %w", err)
	}
	if s.kv == nil { // the handles are by name: the first ones stay valid
		s.consumers, s.kv = consumers, kv
	}
	return nil
}

// NATSURL is where other nodes reach this node's embedded server ("" when
// it does not listen or the service uses an external NATS).
func (s *Service) NATSURL() string {
	ns := s.embeddedServer()
	if ns == nil || s.cfg.NATS.Listen == "" {
		return ""
	}
	return ns.ClientURL()
}

func taskKey(id string) string { return "task." + id }

// load reads a task and its revision.
func (s *Service) load(ctx context.Context, id string) (*Task, uint64, error) {
	if !validID(id) {
		return nil, 0, fmt.Errorf("task %q: %w", id, ErrNotFound)
	}
	e, err := s.kv.Get(ctx, taskKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, fmt.Errorf("task %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("load task %s: %w", id, err)
	}
	var t Task
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return nil, 0, fmt.Errorf("decode task %s: %w", id, err)
	}
	return &t, e.Revision(), nil
}

// save writes t if the stored revision is still rev (compare-and-set).
func (s *Service) save(ctx context.Context, t *Task, rev uint64) (uint64, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return 0, fmt.Errorf("encode task: %w", err)
	}
	if rev == 0 {
		return s.kv.Create(ctx, taskKey(t.ID), b)
	}
	return s.kv.Update(ctx, taskKey(t.ID), b, rev)
}

// mutate applies f to the current task with CAS, re-reading and retrying
// on a conflict. f returns false to leave the task unchanged.
func (s *Service) mutate(ctx context.Context, id string, f func(t *Task) bool) (*Task, uint64, error) {
	for range 20 {
		t, rev, err := s.load(ctx, id)
		if err != nil {
			return nil, 0, err
		}
		if !f(t) {
			return t, rev, nil
		}
		nrev, err := s.save(ctx, t, rev)
		if err == nil {
			return t, nrev, nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, 0, fmt.Errorf("save task %s: %w", id, err)
		}
	}
	return nil, 0, fmt.Errorf("save task %s: too many concurrent updates", id)
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
