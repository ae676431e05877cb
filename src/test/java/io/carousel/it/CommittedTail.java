package io.carousel.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Follows the enriched topic with a read_committed consumer on a thread of its own, counting the
 * committed records per partition and each key's highest modelVersion: what the tests watch to
 * decide when to kill a process (after some, not all, output is committed).
 */
final class CommittedTail implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AtomicLongArray counts;
    private final Map<String, Long> versions = new ConcurrentHashMap<>();
    private final AtomicReference<Throwable> error = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean stop;

    CommittedTail(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "it-tail");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(topic, i.partition())).toList();
        counts = new AtomicLongArray(parts.size());
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        thread = new Thread(this::run, "it-tail-" + topic);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            while (!stop) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    counts.incrementAndGet(r.partition());
                    long v = JSON.readTree(r.value()).path("carousel").path("modelVersion").asLong();
                    versions.merge(new String(r.key(), StandardCharsets.UTF_8), v, Math::max);
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (Exception e) {
            error.compareAndSet(null, e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    long total() {
        long n = 0;
        for (int p = 0; p < counts.length(); p++) {
            n += counts.get(p);
        }
        return n;
    }

    long count(int partition) {
        return counts.get(partition);
    }

    /** How many keys have a committed record of model version {@code version} or later. */
    long keysAtVersion(long version) {
        return versions.values().stream().filter(v -> v >= version).count();
    }

    /** Waits until {@code condition} holds; fails with {@code state} on timeout. */
    void await(String what, BooleanSupplier condition, Supplier<String> state, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (error.get() != null) {
                throw new AssertionError("reading the committed output failed", error.get());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what + "; "
                        + state.get() + "; " + total() + " committed enriched records");
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        consumer.wakeup();
        thread.join(10_000);
    }
}
