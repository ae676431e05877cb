package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import io.carousel.e2e.KafkaIO;
import io.carousel.kafka.EmbeddedKafka;
import io.carousel.lstm.LstmModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trainings still running when their task moves to another instance (a second instance joins)
 * and when their instance stops (it is closed with its trainer pool busy): a finished result for a
 * task this instance no longer owns is dropped, the key stays due and trains again where it now
 * lives. Nothing is lost or doubled in the enriched topic, and every key's state names a model
 * version that its instance's model store holds (state and weights never disagree).
 */
class RetrainInFlightTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long T0 = 1_700_000_000_000L;
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final int KEYS = 8;

    @TempDir
    Path dir;

    @Test
    @Timeout(300)
    void shouldLoseAndCorruptNothingWhenTasksMoveOrStopWithTrainingInFlight() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0, 0)) {
            // slow trainings (hundreds of epochs) on one trainer thread: most are in flight at any moment
            Map<String, String> cfg = new HashMap<>(RetrainingTest.config("retrain.every-events", "150", "retrain.epochs", "300",
                    "retrain.seq-len", "16", "model.hidden", "8", "retrain.max-regression", "1000", "retrain.drift", "false"));
            cfg.put("commit.interval.ms", "100");
            cfg.put("application.id", "carousel-inflight");
            CarouselConfig config = CarouselConfig.of(cfg);
            StreamSettings s = StreamSettings.from(config);
            kafka.createTopics(Map.of(s.eventsTopic(), 4, s.enrichedTopic(), 4, s.forecastsTopic(), 4,
                    s.anomaliesTopic(), 4, s.deadLetterTopic(), 4, s.controlTopic(), 4), Map.of());
            Trainers trainersA = new Trainers(s.retrain());
            Trainers trainersB = new Trainers(s.retrain());
            KafkaStreams a = streams(kafka, config, s, trainersA, "a");
            KafkaStreams b = null;
            try (KafkaProducer<String, String> producer = producer(kafka)) {
                a.start();
                awaitRunning(a);
                send(producer, s, 0, 200);
                awaitConsumed(kafka, s);
                assertTrue(trainersA.completed() < KEYS, "some of the " + KEYS + " trainings of A still in flight when B joins");

                b = streams(kafka, config, s, trainersB, "b");
                b.start();
                awaitRunning(a);
                awaitRunning(b);
                send(producer, s, 200, 400);
                awaitConsumed(kafka, s);

                a.close(Duration.ofSeconds(30)); // with its pool still busy
                trainersA.close();
                awaitRunning(b);
                send(producer, s, 400, 700);
                awaitConsumed(kafka, s);
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (trainersB.completed() < KEYS && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                send(producer, s, 700, 701); // an event per key after B's trainings, to apply them
                awaitConsumed(kafka, s);

                // nothing lost, nothing doubled, in order per key
                Map<String, Integer> count = new TreeMap<>();
                Map<String, Long> last = new HashMap<>();
                Map<String, Long> version = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : KafkaIO.readAll(kafka.bootstrapServers(), s.enrichedTopic(), WAIT)) {
                    String key = new String(r.key(), StandardCharsets.UTF_8);
                    JsonNode e = JSON.readTree(r.value());
                    long t = e.get("timestamp").asLong();
                    assertTrue(t > last.getOrDefault(key, Long.MIN_VALUE), key + " once and in order at " + t);
                    last.put(key, t);
                    count.merge(key, 1, Integer::sum);
                    long v = e.get("carousel").get("modelVersion").asLong();
                    assertTrue(v >= version.getOrDefault(key, 0L), key + ": versions only grow");
                    version.put(key, v);
                }
                Map<String, Integer> expected = new TreeMap<>();
                for (int k = 0; k < KEYS; k++) {
                    expected.put("k" + k, 701);
                }
                assertEquals(expected, count);

                // every key's state agrees with the weights its instance stores
                ReadOnlyKeyValueStore<String, byte[]> states = b.store(StoreQueryParameters.fromNameAndType(
                        CarouselTopology.KEY_STATE_STORE, QueryableStoreTypes.keyValueStore()));
                ReadOnlyKeyValueStore<String, byte[]> models = b.store(StoreQueryParameters.fromNameAndType(
                        CarouselTopology.MODEL_STORE, QueryableStoreTypes.keyValueStore()));
                int keys = 0;
                int trained = 0;
                try (KeyValueIterator<String, byte[]> it = states.all()) {
                    while (it.hasNext()) {
                        KeyValue<String, byte[]> kv = it.next();
                        KeyState k = KeyState.deserialise(kv.value);
                        assertEquals(701, k.count(), kv.key);
                        if (k.modelVersion() > 0) {
                            byte[] m = models.get(kv.key);
                            assertNotNull(m, kv.key + " names version " + k.modelVersion() + " but no model is stored");
                            LstmModel model = ModelRecords.decode(kv.key, m);
                            assertEquals(k.modelVersion(), ModelRecords.version(model), kv.key);
                            assertTrue(model.isFinite());
                            trained++;
                        }
                        assertTrue(k.modelVersion() >= version.get(kv.key), kv.key + ": the state is at least as new as its last output");
                        keys++;
                    }
                }
                assertEquals(KEYS, keys);
                assertTrue(trained > 0, "B trained the keys it took over");
            } finally {
                if (b != null) {
                    b.close(Duration.ofSeconds(30));
                }
                a.close(Duration.ofSeconds(30));
                trainersA.close();
                trainersB.close();
            }
        }
    }

    private KafkaStreams streams(EmbeddedKafka kafka, CarouselConfig config, StreamSettings s, Trainers t, String name) {
        Properties p = CarouselApp.streamsProperties(config, kafka.bootstrapServers());
        p.put("state.dir", dir.resolve("state-" + name).toString());
        return new KafkaStreams(CarouselTopology.build(s, ModelSource.from(s), t), p);
    }

    private static void send(KafkaProducer<String, String> p, StreamSettings s, int from, int to) {
        for (int i = from; i < to; i++) {
            for (int k = 0; k < KEYS; k++) {
                p.send(new ProducerRecord<>(s.eventsTopic(), "k" + k,
                        "{\"timestamp\": " + (T0 + i * 60_000L) + ", \"value\": " + Math.sin(2 * Math.PI * i / 40.0 + k) + "}"));
            }
        }
        p.flush();
    }

    private static void awaitConsumed(EmbeddedKafka kafka, StreamSettings s) throws Exception {
        assertTrue(KafkaIO.awaitConsumed(kafka.admin(), "carousel-inflight", s.eventsTopic(), WAIT), "events not all consumed");
    }

    private static void awaitRunning(KafkaStreams k) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (k.state() != KafkaStreams.State.RUNNING) {
            assertTrue(System.nanoTime() < deadline, "not RUNNING: " + k.state());
            Thread.sleep(50);
        }
    }

    private static KafkaProducer<String, String> producer(EmbeddedKafka kafka) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }
}
