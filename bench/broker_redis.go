package bench

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/client"
)

// redisReader reads a stream of its own with XREAD, from its first entry;
// close deletes the stream.
type redisReader struct {
	url, stream string
	client      *redis.Client
	stop        context.CancelFunc
	done        chan struct{}
}

// openRedis checks that the Redis at b.RedisURL answers a PING and starts
// reading a new stream, which the webhook's first XADD creates.
func openRedis(ctx context.Context, b Brokers, rec *receiver) (brokerReader, error) {
	opts, err := redis.ParseURL(b.RedisURL)
	if err != nil {
		return nil, err
	}
	opts.DisableIdentity = true
	c := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, brokerTimeout)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		_ = c.Close()
		return nil, err
	}
	rctx, stop := context.WithCancel(context.Background())
	r := &redisReader{url: b.RedisURL, stream: "hookgate-bench-" + randomHex(6), client: c, stop: stop, done: make(chan struct{})}
	go r.read(rctx, rec)
	return r, nil
}

func (r *redisReader) destination() client.Destination {
	return client.Destination{Kind: client.DestinationRedisStream, URL: r.url, Stream: r.stream}
}

// read records each entry's body until ctx ends. An entry's arrival is
// when the XREAD that returned it did.
func (r *redisReader) read(ctx context.Context, rec *receiver) {
	defer close(r.done)
	last := "0"
	for ctx.Err() == nil {
		res, err := r.client.XRead(ctx, &redis.XReadArgs{Streams: []string{r.stream, last}, Count: 1000, Block: time.Second}).Result()
		now := time.Now()
		if err != nil {
			if !errors.Is(err, redis.Nil) {
				pause(ctx, 100*time.Millisecond) // a broker restarting: entries not read count as lost
			}
			continue
		}
		for _, s := range res {
			for _, m := range s.Messages {
				last = m.ID
				body, _ := m.Values["body"].(string)
				rec.arrive([]byte(body), now)
			}
		}
	}
}

func (r *redisReader) close() error {
	r.stop()
	<-r.done
	ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
	defer cancel()
	err := r.client.Del(ctx, r.stream).Err()
	return errors.Join(err, r.client.Close())
}

// pause waits d, or less if ctx ends.
func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
