package io.carousel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import io.carousel.e2e.KafkaIO;
import io.carousel.streams.CarouselTopology;
import io.carousel.streams.ModelSource;
import io.carousel.streams.StreamSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The outputs of a run, read back and checked: each output record by (key, event timestamp), the
 * exactly-once check, the comparison with a reference run, and per-key continuity of state.
 */
final class Outputs {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One output record: its key, the event's timestamp, where it is, its text and parsed value. */
    record Rec(String key, long timestamp, int partition, long offset, String text, JsonNode json) {
        String id() {
            return key + "@" + timestamp;
        }

        /** The enriched record's carousel object. */
        JsonNode carousel() {
            return json.get("carousel");
        }

        long modelVersion() {
            JsonNode c = carousel();
            return (c == null ? json : c).get("modelVersion").asLong();
        }
    }

    /** What one run wrote: enriched, forecasts and anomalies records. */
    record Run(List<Rec> enriched, List<Rec> forecasts, List<Rec> anomalies) {
        Map<String, List<Rec>> enrichedByKey() {
            return byKey(enriched);
        }
    }

    private Outputs() {}

    static Rec parse(String key, int partition, long offset, byte[] value) {
        String text = new String(value, StandardCharsets.UTF_8);
        try {
            JsonNode j = JSON.readTree(text);
            return new Rec(key, j.get("timestamp").asLong(), partition, offset, text, j);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }

    static List<Rec> parse(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> parse(new String(r.key(), StandardCharsets.UTF_8), r.partition(), r.offset(),
                r.value())).toList();
    }

    /** Every committed record of {@code topic} (read_committed), as of now. */
    static List<Rec> readCommitted(String bootstrap, String topic) {
        return parse(KafkaIO.readAll(bootstrap, topic, Duration.ofSeconds(60)));
    }

    /**
     * The committed outputs of a finished run. The transaction markers of the last commit may land
     * on the partitions a moment after the offsets: reads again until the enriched topic holds at
     * least {@code expected} records (or the timeout passes; the checks then say what is missing).
     */
    static Run readRun(String bootstrap, CarouselConfig c, int expected, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Rec> enriched = readCommitted(bootstrap, c.topicEnriched());
        while (enriched.size() < expected && System.nanoTime() < deadline) {
            Thread.sleep(500);
            enriched = readCommitted(bootstrap, c.topicEnriched());
        }
        return new Run(enriched, readCommitted(bootstrap, c.topicForecasts()), readCommitted(bootstrap, c.topicAnomalies()));
    }

    /**
     * How many records {@code topic} holds that a read_committed reader does not see: those of
     * aborted transactions (the writes of a killed process that were never committed).
     */
    static long abortedRecords(String bootstrap, String topic) {
        long committed = KafkaIO.readAll(bootstrap, topic, Duration.ofSeconds(60)).size();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        long all = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                all += c.poll(Duration.ofMillis(200)).count();
            }
        }
        return all - committed;
    }

    static Map<String, List<Rec>> byKey(List<Rec> recs) {
        Map<String, List<Rec>> m = new TreeMap<>();
        for (Rec r : recs) {
            m.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r);
        }
        // one key is in one partition, where Kafka keeps the order of writing
        m.values().forEach(l -> l.sort(Comparator.comparingLong(Rec::offset)));
        return m;
    }

    /** Every input event exactly once in {@code recs}: none missing, none twice (by key and event timestamp). */
    static void assertExactlyOnce(String what, List<Rec> recs, TestEvents ev) {
        Map<String, Integer> seen = new HashMap<>();
        for (Rec r : recs) {
            seen.merge(r.id(), 1, Integer::sum);
        }
        List<String> missing = new ArrayList<>();
        for (int k = 0; k < ev.keys; k++) {
            for (int i = 0; i < ev.perKey; i++) {
                String id = ev.key(k) + "@" + ev.timestamp(i);
                if (!seen.containsKey(id)) {
                    missing.add(id + " (event " + i + ")");
                }
            }
        }
        List<String> doubled = seen.entrySet().stream().filter(e -> e.getValue() > 1)
                .map(e -> e.getKey() + " x" + e.getValue()).sorted().toList();
        assertTrue(missing.isEmpty() && doubled.isEmpty(), what + ": " + missing.size() + " events lost "
                + first(missing) + ", " + doubled.size() + " events written more than once " + first(doubled)
                + " (" + recs.size() + " records for " + ev.total() + " events)");
        assertEquals(ev.total(), recs.size(), what);
    }

    /** Each record of {@code actual} whose id {@code reference} has equals it byte for byte; returns how many were compared. */
    static int assertSameAs(String what, List<Rec> actual, Map<String, Rec> reference) {
        List<String> diffs = new ArrayList<>();
        int compared = 0;
        for (Rec r : actual) {
            Rec ref = reference.get(r.id());
            if (ref == null) {
                continue;
            }
            compared++;
            if (!ref.text().equals(r.text())) {
                diffs.add(r.id() + " (partition " + r.partition() + " offset " + r.offset() + "): " + differingFields(ref, r)
                        + "\n      run:       " + r.text() + "\n      reference: " + ref.text());
            }
        }
        assertTrue(diffs.isEmpty(), what + ": " + diffs.size() + " of " + compared
                + " records differ from the uninterrupted reference run, e.g.\n    "
                + String.join("\n    ", diffs.subList(0, Math.min(5, diffs.size()))));
        return compared;
    }

    private static String differingFields(Rec ref, Rec r) {
        JsonNode a = ref.carousel() != null ? ref.carousel() : ref.json();
        JsonNode b = r.carousel() != null ? r.carousel() : r.json();
        List<String> names = new ArrayList<>();
        a.fieldNames().forEachRemaining(f -> {
            if (!a.get(f).equals(b.get(f))) {
                names.add(f);
            }
        });
        return "fields " + names + " differ";
    }

    static Map<String, Rec> index(List<Rec> recs) {
        return recs.stream().collect(Collectors.toMap(Rec::id, Function.identity(), (x, y) -> x, LinkedHashMap::new));
    }

    /**
     * Per key, the state went on from record to record: {@code count} is 1, 2, 3, ... (no event
     * applied twice or lost from the state) and the event timestamps rise, in the order Kafka holds
     * the records.
     */
    static void assertContinuous(String what, List<Rec> enriched) {
        for (Map.Entry<String, List<Rec>> e : byKey(enriched).entrySet()) {
            List<Rec> l = e.getValue();
            for (int i = 0; i < l.size(); i++) {
                Rec r = l.get(i);
                assertEquals(i + 1, r.carousel().get("count").asLong(), what + ": count of " + r.id() + ", record " + (i + 1)
                        + " of key " + e.getKey() + " (partition " + r.partition() + " offset " + r.offset() + "): " + r.text());
                if (i > 0) {
                    assertTrue(r.timestamp() > l.get(i - 1).timestamp(), what + ": " + r.id() + " after " + l.get(i - 1).id());
                }
            }
        }
    }

    private static String first(List<String> l) {
        return l.isEmpty() ? "" : l.subList(0, Math.min(8, l.size())).toString();
    }

    /**
     * The uninterrupted reference: the same topology and settings (read like {@code run} reads them:
     * the shipped file, then {@code sets}) under TopologyTestDriver, over the same events in the
     * same order. Training, if configured, runs synchronously there.
     */
    static Run reference(List<String> sets, TestEvents ev, Path stateDir) {
        CarouselConfig config = CarouselConfig.load(CarouselProcess.CONFIG, sets);
        StreamSettings s = StreamSettings.from(config).withSynchronousTraining();
        Properties p = config.streamsProperties("127.0.0.1:1");
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        ByteArraySerializer ser = new ByteArraySerializer();
        ByteArrayDeserializer de = new ByteArrayDeserializer();
        try (TopologyTestDriver d = new TopologyTestDriver(CarouselTopology.build(s, ModelSource.from(s)), p)) {
            TestInputTopic<byte[], byte[]> in = d.createInputTopic(s.eventsTopic(), ser, ser);
            for (int n = 0; n < ev.total(); n++) {
                int k = ev.keyOf(n);
                int i = ev.indexOf(n);
                in.pipeInput(TestEvents.bytes(ev.key(k)), TestEvents.bytes(ev.json(k, i)), ev.timestamp(i));
            }
            return new Run(drain(d.createOutputTopic(s.enrichedTopic(), de, de)),
                    drain(d.createOutputTopic(s.forecastsTopic(), de, de)),
                    drain(d.createOutputTopic(s.anomaliesTopic(), de, de)));
        }
    }

    private static List<Rec> drain(TestOutputTopic<byte[], byte[]> t) {
        List<Rec> out = new ArrayList<>();
        long n = 0;
        for (Iterator<TestRecord<byte[], byte[]>> it = t.readRecordsToList().iterator(); it.hasNext(); n++) {
            TestRecord<byte[], byte[]> r = it.next();
            out.add(parse(new String(r.key(), StandardCharsets.UTF_8), -1, n, r.value()));
        }
        return out;
    }
}
