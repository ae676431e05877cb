package io.carousel.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import io.carousel.streams.CarouselApp;
import io.carousel.streams.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole product on a real single-node KRaft broker: {@code run}'s start-up path
 * ({@link CarouselApp}: embedded broker, topics, Kafka Streams with exactly_once_v2), good events
 * and garbage in through a plain producer, every output topic read back with read_committed.
 */
class EndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> KEYS = List.of("sensor-a", "sensor-b", "sensor-c");
    private static final int EVENTS_PER_KEY = 150;
    private static final String SPIKE_KEY = "sensor-b";
    private static final int SPIKE_AT = 130; // after anomaly.warmup-events=100 (set below)
    private static final double SPIKE_VALUE = 25.0;
    private static final long T0 = Instant.parse("2024-03-01T00:00:00Z").toEpochMilli();
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    /** A garbage record, what the dead-letter topic must say about it, and where it was written. */
    record Garbage(String key, String value, String reason, RecordMetadata[] written) {
        Garbage(String key, String value, String reason) {
            this(key, value, reason, new RecordMetadata[1]);
        }
    }

    @Test
    @Timeout(150)
    void eventsGoThroughTheRealBrokerExactlyOnceAndGarbageToTheDeadLetterTopic() throws Exception {
        CarouselConfig config = CarouselConfig.of(Map.of(
                "embedded.port", "0",
                "embedded.dir", tmp.resolve("kafka").toString(),
                "state.dir", tmp.resolve("state").toString(),
                "application.id", "carousel-e2e",
                "commit.interval.ms", "100",
                "topic.partitions", "2",
                "anomaly.warmup-events", "100"));
        try (CarouselApp app = CarouselApp.prepare(config)) {
            Properties streamsProps = app.properties();
            assertEquals(StreamsConfig.EXACTLY_ONCE_V2, streamsProps.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
            assertEquals(config.topicDeadLetter(), streamsProps.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG));
            app.start();
            assertTrue(app.awaitRunning(WAIT), "Kafka Streams did not reach RUNNING: " + app.state());
            String bootstrap = app.bootstrapServers();

            // ---- in: 3 keys x 150 events (a noisy sine, one spike), interleaved; then garbage
            Map<String, List<String>> sent = new LinkedHashMap<>();
            List<Garbage> garbage = List.of(
                    new Garbage("g-not-json", "this is not JSON {", "NOT_JSON"),
                    new Garbage("g-array", "[1, 2, 3]", "NOT_OBJECT"),
                    new Garbage("g-no-value", "{\"timestamp\": \"2024-03-01T00:00:00Z\", \"temp\": 1.5}", "MISSING_FEATURE"),
                    new Garbage("g-string-value", "{\"timestamp\": \"2024-03-01T00:00:00Z\", \"value\": \"12.5\"}", "NOT_NUMERIC"),
                    new Garbage(null, "{\"timestamp\": \"2024-03-01T00:00:00Z\", \"value\": 1.0}", "MISSING_KEY"));
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            pp.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
                Random noise = new Random(7);
                for (int i = 0; i < EVENTS_PER_KEY; i++) {
                    for (int k = 0; k < KEYS.size(); k++) {
                        String key = KEYS.get(k);
                        double v = key.equals(SPIKE_KEY) && i == SPIKE_AT ? SPIKE_VALUE
                                : 10 + 2 * Math.sin(2 * Math.PI * i / 24.0 + k) + 0.1 * noise.nextGaussian();
                        String json = String.format(Locale.ROOT,
                                "{\"timestamp\": \"%s\", \"value\": %s, \"site\": \"plant-%d\", \"seq\": %d, \"tags\": {\"unit\": \"C\"}}",
                                Instant.ofEpochMilli(T0 + i * 60_000L), Double.toString(v), k, i);
                        sent.computeIfAbsent(key, x -> new ArrayList<>()).add(json);
                        producer.send(new ProducerRecord<>(config.topicEvents(), bytes(key), bytes(json)));
                    }
                }
                for (Garbage g : garbage) {
                    Future<RecordMetadata> f = producer.send(new ProducerRecord<>(config.topicEvents(), bytes(g.key()), bytes(g.value())));
                    g.written()[0] = f.get();
                }
                producer.flush();
            }

            // ---- wait until Kafka Streams has consumed and committed every input record
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                assertTrue(KafkaIO.awaitConsumed(admin, "carousel-e2e", config.topicEvents(), WAIT),
                        "Kafka Streams did not commit the whole events topic; state " + app.state());
            }
            assertEquals(KafkaStreams.State.RUNNING, app.state());
            assertTrue(app.failure().isEmpty());

            // ---- enriched: every good event exactly once, in order per key, every field kept, plus carousel
            List<ConsumerRecord<byte[], byte[]>> enriched = KafkaIO.readAll(bootstrap, config.topicEnriched(), WAIT);
            assertEquals(KEYS.size() * EVENTS_PER_KEY, enriched.size(), "enriched records");
            Map<String, List<JsonNode>> byKey = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : enriched) {
                String key = string(r.key());
                List<JsonNode> seen = byKey.computeIfAbsent(key, x -> new ArrayList<>());
                String text = string(r.value());
                String original = sent.get(key).get(seen.size());
                // the original bytes, then the carousel object spliced in before the closing brace
                assertTrue(text.startsWith(original.substring(0, original.length() - 1) + ",\"carousel\":{"),
                        "enriched record does not extend the original: " + text);
                JsonNode e = JSON.readTree(text);
                JsonNode o = JSON.readTree(original);
                o.fieldNames().forEachRemaining(f -> assertEquals(o.get(f), e.get(f), "field " + f + " of " + text));
                JsonNode c = e.get("carousel");
                assertNotNull(c, text);
                for (String f : List.of("forecast", "error", "anomalyScore", "anomaly", "nextForecast", "lower", "upper",
                        "modelVersion", "warm")) {
                    assertTrue(c.has(f), "carousel." + f + " missing in " + text);
                }
                assertEquals(seen.size(), e.get("seq").asInt(), "order of " + key);
                seen.add(e);
            }
            for (String key : KEYS) {
                assertEquals(EVENTS_PER_KEY, byKey.get(key).size(), key);
                JsonNode last = byKey.get(key).get(EVENTS_PER_KEY - 1).get("carousel");
                assertTrue(last.get("warm").asBoolean(), key + " warm after " + EVENTS_PER_KEY + " events");
                assertTrue(last.get("nextForecast").isNumber() && last.get("lower").isNumber() && last.get("upper").isNumber());
            }
            assertTrue(byKey.get(SPIKE_KEY).get(SPIKE_AT).get("carousel").get("anomaly").asBoolean(),
                    "the spike is flagged in the enriched topic: " + byKey.get(SPIKE_KEY).get(SPIKE_AT));

            // ---- forecasts: one per good event
            Map<String, Integer> forecasts = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : KafkaIO.readAll(bootstrap, config.topicForecasts(), WAIT)) {
                JsonNode f = JSON.readTree(r.value());
                assertEquals(string(r.key()), f.get("key").asText());
                assertTrue(f.get("horizon").isArray() && f.get("horizon").size() == 1, f.toString());
                forecasts.merge(string(r.key()), 1, Integer::sum);
            }
            assertEquals(Map.of("sensor-a", EVENTS_PER_KEY, "sensor-b", EVENTS_PER_KEY, "sensor-c", EVENTS_PER_KEY), forecasts);

            // ---- anomalies: the spike is there
            List<JsonNode> anomalies = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : KafkaIO.readAll(bootstrap, config.topicAnomalies(), WAIT)) {
                anomalies.add(JSON.readTree(r.value()));
            }
            long spikeTime = T0 + SPIKE_AT * 60_000L;
            assertTrue(anomalies.stream().anyMatch(a -> a.get("key").asText().equals(SPIKE_KEY)
                            && a.get("timestamp").asLong() == spikeTime && a.get("value").asDouble() == SPIKE_VALUE),
                    "the spike is not among the anomalies: " + anomalies);

            // ---- dead letters: each garbage record once, original bytes, reason and provenance headers
            List<ConsumerRecord<byte[], byte[]>> dead = KafkaIO.readAll(bootstrap, config.topicDeadLetter(), WAIT);
            assertEquals(garbage.size(), dead.size(), "dead letters: " + dead);
            for (Garbage g : garbage) {
                List<ConsumerRecord<byte[], byte[]>> matches = dead.stream()
                        .filter(r -> java.util.Arrays.equals(bytes(g.value()), r.value())).toList();
                assertEquals(1, matches.size(), "dead letters for " + g.value());
                ConsumerRecord<byte[], byte[]> r = matches.get(0);
                if (g.key() == null) {
                    assertNull(r.key());
                } else {
                    assertArrayEquals(bytes(g.key()), r.key());
                }
                assertEquals(g.reason(), header(r, DeadLetters.REASON), g.value());
                assertFalse(header(r, DeadLetters.MESSAGE).isBlank());
                assertEquals(config.topicEvents(), header(r, DeadLetters.TOPIC));
                assertEquals(String.valueOf(g.written()[0].partition()), header(r, DeadLetters.PARTITION));
                assertEquals(String.valueOf(g.written()[0].offset()), header(r, DeadLetters.OFFSET));
            }
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        assertNotNull(h, "header " + name + " missing on the dead letter " + string(r.value()));
        return new String(h.value(), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
