package io.carousel.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import io.carousel.streams.CarouselApp;
import io.carousel.streams.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real broker and a stream of which a tenth is garbage of every kind a producer can send:
 * every garbage record lands once in the dead-letter topic with its original bytes and the
 * expected reason, every good record is enriched exactly once, the counts reconcile exactly,
 * and Kafka Streams never leaves RUNNING (no thread died, nothing was restarted).
 */
class HostileInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final long T0 = 1_709_251_200_000L; // 2024-03-01
    private static final int MAX_BYTES = 4096;

    @TempDir
    Path tmp;

    record Garbage(byte[] key, byte[] value, String reason) {}

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    /** One garbage record of kind {@code i % kinds}, each a different instance of its kind. */
    private static Garbage garbage(int i, Random rnd) {
        byte[] key = utf8("bad-" + i);
        String ts = "\"timestamp\": " + (T0 + i);
        return switch (i % 18) {
            case 0 -> new Garbage(key, utf8("not json at all " + i), "NOT_JSON");
            case 1 -> new Garbage(key, utf8("{" + ts + ", \"value\": 1" + i), "NOT_JSON"); // truncated
            case 2 -> new Garbage(key, utf8("[" + i + ", 2, 3]"), "NOT_OBJECT");
            case 3 -> new Garbage(key, utf8("\"just a string " + i + "\""), "NOT_OBJECT");
            case 4 -> new Garbage(key, utf8("{" + ts + ", \"value\": \"" + i + "\"}"), "NOT_NUMERIC");
            case 5 -> new Garbage(key, utf8("{" + ts + ", \"value\": true}"), "NOT_NUMERIC");
            case 6 -> new Garbage(key, utf8("{" + ts + ", \"value\": {\"v\": " + i + "}}"), "NOT_NUMERIC");
            case 7 -> new Garbage(key, utf8("{" + ts + ", \"value\": NaN}"), "NOT_JSON"); // JSON has no NaN
            case 8 -> new Garbage(key, utf8("{" + ts + ", \"value\": -Infinity}"), "NOT_JSON");
            case 9 -> new Garbage(key, utf8("{" + ts + ", \"value\": 1e" + (400 + i % 50) + "}"), "NOT_FINITE");
            case 10 -> new Garbage(null, utf8("{" + ts + ", \"value\": " + i + "}"), "MISSING_KEY");
            case 11 -> new Garbage(key, null, "EMPTY_VALUE");
            case 12 -> new Garbage(key, new byte[0], "EMPTY_VALUE");
            case 13 -> new Garbage(key, utf8("{" + ts + ", \"value\": 1, \"pad\": \"" + "x".repeat(MAX_BYTES + i) + "\"}"), "TOO_LARGE");
            case 14 -> new Garbage(utf8("k".repeat(2000 + i)), utf8("{" + ts + ", \"value\": 1}"), "KEY_TOO_LONG");
            case 15 -> {
                byte[] v = utf8("{" + ts + ", \"value\": 1, \"name\": \"..\"}");
                v[v.length - 4] = (byte) 0xC3; // a lead byte without its continuation: invalid UTF-8
                v[v.length - 3] = (byte) (0x28 + rnd.nextInt(3));
                yield new Garbage(key, v, "NOT_JSON");
            }
            case 16 -> new Garbage(key, utf8("{\"timestamp\": \"0001-01-01T00:00:00Z\", \"value\": 1}"), "BAD_TIMESTAMP");
            default -> new Garbage(key, utf8("{\"timestamp\": \"9999-12-31T23:59:59Z\", \"value\": 1}"), "BAD_TIMESTAMP");
        };
    }

    @Test
    @Timeout(240)
    void everyGarbageRecordIsDeadLetteredWithItsReasonAndEveryGoodOneEnrichedOnce() throws Exception {
        CarouselConfig config = CarouselConfig.of(Map.of(
                "embedded.port", "0",
                "embedded.dir", tmp.resolve("kafka").toString(),
                "state.dir", tmp.resolve("state").toString(),
                "application.id", "carousel-hostile",
                "topic.partitions", "2",
                "events.max-bytes", Integer.toString(MAX_BYTES),
                "retrain.every-events", "0"));
        List<KafkaStreams.State> states = new CopyOnWriteArrayList<>();
        try (CarouselApp app = CarouselApp.prepare(config)) {
            app.setStateListener((now, before) -> states.add(now));
            app.start();
            assertTrue(app.awaitRunning(WAIT), "Kafka Streams did not reach RUNNING: " + app.state());
            String bootstrap = app.bootstrapServers();

            int keys = 20;
            int perKey = 90;
            Random rnd = new Random(11);
            List<Garbage> garbage = new ArrayList<>();
            Map<String, Integer> goodPerKey = new TreeMap<>();
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            pp.put(ProducerConfig.ACKS_CONFIG, "all");
            pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < perKey; i++) {
                    for (int k = 0; k < keys; k++) {
                        String key = "sensor-" + k;
                        double v = 50 + 10 * Math.sin(i / 6.0 + k) + rnd.nextGaussian();
                        String json = String.format(Locale.ROOT, "{\"timestamp\": %d, \"value\": %s}", T0 + i * 60_000L, v);
                        producer.send(new ProducerRecord<>(config.topicEvents(), utf8(key), utf8(json)));
                        goodPerKey.merge(key, 1, Integer::sum);
                        if ((i * keys + k) % 9 == 8) { // one garbage record for every nine good ones: a tenth of the stream
                            Garbage g = garbage(garbage.size(), rnd);
                            garbage.add(g);
                            producer.send(new ProducerRecord<>(config.topicEvents(), g.key(), g.value()));
                        }
                    }
                }
                producer.flush();
            }
            int good = keys * perKey;
            assertEquals(good / 9, garbage.size());

            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                assertTrue(KafkaIO.awaitConsumed(admin, "carousel-hostile", config.topicEvents(), WAIT),
                        "Kafka Streams did not commit the whole events topic; state " + app.state());
            }
            assertEquals(KafkaStreams.State.RUNNING, app.state());
            assertTrue(app.failure().isEmpty(), "no stream thread failed: " + app.failure());
            assertTrue(states.stream().noneMatch(s -> s == KafkaStreams.State.ERROR || s == KafkaStreams.State.PENDING_ERROR
                    || s == KafkaStreams.State.PENDING_SHUTDOWN), "Kafka Streams never stopped or restarted: " + states);

            // every good record enriched exactly once, per key in order
            Map<String, Integer> enrichedPerKey = new TreeMap<>();
            Map<String, Long> lastTime = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : KafkaIO.readAll(bootstrap, config.topicEnriched(), WAIT)) {
                String key = new String(r.key(), StandardCharsets.UTF_8);
                JsonNode e = JSON.readTree(r.value());
                long t = e.get("timestamp").asLong();
                assertTrue(t > lastTime.getOrDefault(key, Long.MIN_VALUE), "once and in order: " + key + " at " + t);
                lastTime.put(key, t);
                assertTrue(Double.isFinite(e.get("carousel").get("anomalyScore").asDouble()));
                enrichedPerKey.merge(key, 1, Integer::sum);
            }
            assertEquals(goodPerKey, enrichedPerKey);

            // every garbage record dead-lettered exactly once, original bytes and the expected reason
            List<ConsumerRecord<byte[], byte[]>> dead = KafkaIO.readAll(bootstrap, config.topicDeadLetter(), WAIT);
            assertEquals(garbage.size(), dead.size(), "dead letters");
            Map<String, Integer> reasons = new TreeMap<>();
            Map<String, Integer> expected = new TreeMap<>();
            for (Garbage g : garbage) {
                expected.merge(g.reason(), 1, Integer::sum);
                List<ConsumerRecord<byte[], byte[]>> matches = dead.stream()
                        .filter(r -> Arrays.equals(g.value() == null ? new byte[0] : g.value(), r.value() == null ? new byte[0] : r.value())
                                && Arrays.equals(g.key(), r.key()))
                        .toList();
                assertEquals(1, matches.size(), "dead letters for " + describe(g));
                assertEquals(g.reason(), header(matches.get(0), DeadLetters.REASON), describe(g));
                assertTrue(header(matches.get(0), DeadLetters.MESSAGE).length() > 0);
                assertEquals(config.topicEvents(), header(matches.get(0), DeadLetters.TOPIC));
            }
            for (ConsumerRecord<byte[], byte[]> r : dead) {
                reasons.merge(header(r, DeadLetters.REASON), 1, Integer::sum);
            }
            assertEquals(expected, reasons);
            assertEquals(java.util.Set.of("NOT_JSON", "NOT_OBJECT", "NOT_NUMERIC", "NOT_FINITE", "MISSING_KEY", "EMPTY_VALUE",
                    "TOO_LARGE", "KEY_TOO_LONG", "BAD_TIMESTAMP"), expected.keySet(), "every kind of garbage was sent");
        }
    }

    private static String describe(Garbage g) {
        String v = g.value() == null ? "null" : new String(g.value(), StandardCharsets.UTF_8);
        return (g.key() == null ? "null" : g.key().length + "-byte key") + " / " + (v.length() > 80 ? v.substring(0, 80) + "..." : v);
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? "" : new String(h.value(), StandardCharsets.UTF_8);
    }
}
