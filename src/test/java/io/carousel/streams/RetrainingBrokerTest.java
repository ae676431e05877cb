package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import io.carousel.kafka.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retraining against the embedded broker: trainings run on the trainer pool's threads while
 * events keep flowing, and a restart with the same state directory continues each key's model
 * version instead of starting over.
 */
class RetrainingBrokerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path dir;

    @Test
    void shouldTrainOffTheStreamThreadAndKeepVersionsAcrossARestart() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0, 0)) {
            // a noise-free sine: the value one period ago would be exact and serve; this test is about
            // the trained weights surviving a restart, so they serve ("source": "lstm" says so)
            Map<String, String> cfg = new HashMap<>(RetrainingTest.config("retrain.every-events", "200",
                    "forecast.seasonal", "false"));
            cfg.put("state.dir", dir.resolve("state").toString());
            cfg.put("commit.interval.ms", "100");
            CarouselConfig config = CarouselConfig.of(cfg);
            StreamSettings s = StreamSettings.from(config);
            kafka.createTopics(Map.of(s.eventsTopic(), 2, s.enrichedTopic(), 2, s.forecastsTopic(), 2,
                    s.anomaliesTopic(), 2, s.deadLetterTopic(), 2, s.controlTopic(), 2), Map.of());
            Properties props = config.streamsProperties(kafka.bootstrapServers());
            List<JsonNode> first;
            Trainers trainers = new Trainers(s.retrain());
            try (KafkaStreams streams = new KafkaStreams(CarouselTopology.build(s, ModelSource.from(s), trainers), props);
                 KafkaProducer<String, String> producer = producer(kafka);
                 KafkaConsumer<byte[], byte[]> consumer = consumer(kafka, "first")) {
                streams.start();
                consumer.subscribe(List.of(s.enrichedTopic()));
                List<JsonNode> seen = new ArrayList<>();
                for (int i = 0; i < 600; i++) {
                    for (String key : List.of("a", "b")) {
                        producer.send(new ProducerRecord<>(s.eventsTopic(), key, event(i)));
                    }
                    if (i % 50 == 49) {
                        producer.flush();
                        Thread.sleep(150); // a steady stream, not one burst: trainings overlap with it
                        read(consumer, seen, 0);
                    }
                }
                producer.flush();
                read(consumer, seen, 1200);
                first = seen;
                assertTrue(trainers.completed() > 0, "some training finished while the stream ran");
                for (String t : trainers.threadNames()) {
                    assertTrue(t.startsWith("carousel-trainer-"), "trained on the pool, not on " + t);
                }
                streams.close(Duration.ofSeconds(30));
            } finally {
                trainers.close();
            }
            long versionA = lastVersion(first, "a");
            assertTrue(versionA >= 1, "key a retrained during the run");

            // restart on the same state directory: the key continues with its model version
            try (KafkaStreams streams = new KafkaStreams(CarouselTopology.build(s, ModelSource.from(s)), props);
                 KafkaProducer<String, String> producer = producer(kafka);
                 KafkaConsumer<byte[], byte[]> consumer = consumer(kafka, "second")) {
                streams.start();
                consumer.subscribe(List.of(s.enrichedTopic()));
                producer.send(new ProducerRecord<>(s.eventsTopic(), "a", event(600)));
                producer.flush();
                List<JsonNode> seen = new ArrayList<>();
                read(consumer, seen, 1201);
                JsonNode after = seen.get(seen.size() - 1);
                assertEquals(T0 + 600 * 60_000L, after.get("timestamp").asLong());
                assertTrue(after.get("carousel").get("modelVersion").asLong() >= versionA,
                        "version continues after the restart: " + after);
                assertEquals("lstm", after.get("carousel").get("source").asText());
                assertEquals(601, after.get("carousel").get("count").asLong(), "the key's state was kept");
                streams.close(Duration.ofSeconds(30));
            }
        }
    }

    private static String event(int i) {
        return "{\"timestamp\": " + (T0 + i * 60_000L) + ", \"value\": " + Math.sin(2 * Math.PI * i / 40.0) + "}";
    }

    private static long lastVersion(List<JsonNode> seen, String key) {
        long v = -1;
        for (JsonNode n : seen) {
            if (n.get("k").asText().equals(key)) {
                v = n.get("carousel").get("modelVersion").asLong();
            }
        }
        return v;
    }

    /** Reads enriched records (remembering their key as "k") until at least {@code atLeast} in all. */
    private static void read(KafkaConsumer<byte[], byte[]> c, List<JsonNode> seen, int atLeast) throws Exception {
        long deadline = System.nanoTime() + 90_000_000_000L;
        do {
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                com.fasterxml.jackson.databind.node.ObjectNode n = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(r.value());
                n.put("k", new String(r.key()));
                seen.add(n);
            }
        } while (seen.size() < atLeast && System.nanoTime() < deadline);
        assertTrue(seen.size() >= atLeast, "read " + seen.size() + " of " + atLeast);
    }

    private static KafkaConsumer<byte[], byte[]> consumer(EmbeddedKafka kafka, String name) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("group.id", "reader-" + name);
        p.put("isolation.level", "read_committed");
        p.put("auto.offset.reset", "earliest");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static KafkaProducer<String, String> producer(EmbeddedKafka kafka) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }
}
