package io.carousel.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A known input: {@code keys} series of {@code perKey} events, one a minute from {@link #T0}, a
 * noisy sine per key with a few spikes, as {@code {"timestamp": <epoch ms>, "value": <double>}}
 * keyed by the series key. Every value is a function of (key, index), so a reference run sees
 * exactly the same events.
 */
final class TestEvents {
    static final long T0 = 1_700_000_040_000L;
    static final long STEP = 60_000L;

    final int keys;
    final int perKey;

    TestEvents(int keys, int perKey) {
        this.keys = keys;
        this.perKey = perKey;
    }

    int total() {
        return keys * perKey;
    }

    String key(int k) {
        return String.format(Locale.ROOT, "sensor-%02d", k);
    }

    long timestamp(int i) {
        return T0 + i * STEP;
    }

    double value(int k, int i) {
        double v = 20 + 3 * Math.sin(2 * Math.PI * i / (20.0 + k % 7) + k) + 0.3 * new Random(k * 100_003L + i).nextGaussian();
        if (k % 5 == 0 && i == 150 + 10 * (k % 3)) {
            v += 25; // a spike, after anomaly.warmup-events
        }
        return v;
    }

    String json(int k, int i) {
        return "{\"timestamp\": " + timestamp(i) + ", \"value\": " + value(k, i) + "}";
    }

    /** Event number {@code n} of the input order: all keys at step 0, then all at step 1, ... */
    int keyOf(int n) {
        return n % keys;
    }

    int indexOf(int n) {
        return n / keys;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Writes the events in input order to a topic from a thread of its own, at about
     * {@code perSecond} events a second, so that processing and crashes overlap with production.
     */
    final class Feeder implements AutoCloseable {
        private final KafkaProducer<byte[], byte[]> producer;
        private final String topic;
        private final int perSecond;
        private final AtomicInteger sent = new AtomicInteger();
        private final AtomicReference<Throwable> error = new AtomicReference<>();
        private final Thread thread;
        private volatile boolean stop;

        Feeder(String bootstrap, String topic, int perSecond) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "it-feeder");
            this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
            this.topic = topic;
            this.perSecond = perSecond;
            this.thread = new Thread(this::run, "it-feeder");
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        private void run() {
            long t0 = System.nanoTime();
            try {
                for (int n = 0; n < total() && !stop; n++) {
                    int k = keyOf(n);
                    int i = indexOf(n);
                    producer.send(new ProducerRecord<>(topic, bytes(key(k)), bytes(json(k, i))), (md, e) -> {
                        if (e != null) {
                            error.compareAndSet(null, e);
                        }
                    });
                    sent.incrementAndGet();
                    long due = t0 + (long) ((n + 1) * 1e9 / perSecond);
                    long wait = due - System.nanoTime();
                    if (wait > 1_000_000) {
                        Thread.sleep(wait / 1_000_000);
                    }
                }
                producer.flush();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                error.compareAndSet(null, e);
            }
        }

        /** Events handed to the producer so far. */
        int sent() {
            return sent.get();
        }

        /** Waits until every event is written and acknowledged. */
        void awaitDone(Duration timeout) throws InterruptedException {
            thread.join(timeout.toMillis());
            if (thread.isAlive()) {
                throw new AssertionError("the feeder did not write its " + total() + " events within " + timeout.toSeconds()
                        + " s (" + sent() + " sent)");
            }
            if (error.get() != null) {
                throw new AssertionError("writing the events failed", error.get());
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.join(10_000);
            producer.close(Duration.ofSeconds(5));
        }
    }
}
