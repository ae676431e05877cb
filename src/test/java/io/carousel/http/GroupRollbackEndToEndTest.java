package io.carousel.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.carousel.config.CarouselConfig;
import io.carousel.e2e.KafkaIO;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /models/{id}/rollback} of a group model on a whole instance over the embedded
 * broker: the request crosses the control topic, the forecast task and the samples-by-group
 * repartition topic to the task that trains the group, whose answer comes back through the models
 * topic into the global store.
 */
@Timeout(180)
class GroupRollbackEndToEndTest {

    static final String TOKEN = "s3cret";
    static final List<String> KEYS = List.of("sensor-a", "sensor-b", "sensor-c");
    static final long T0 = 1_709_251_200_000L;
    static final Duration WAIT = Duration.ofSeconds(90);

    @Test
    void rollsAGroupModelBackVersionByVersionToItsInitialModel(@TempDir Path tmp) throws Exception {
        Map<String, String> cfg = Http.instance(tmp, "carousel-group-rollback", TOKEN);
        cfg.put("model.scope", "group");
        cfg.put("model.group.pattern", "^([a-z]+)-");
        cfg.put("retrain.every-events", "150");
        cfg.put("retrain.epochs", "10");
        cfg.put("forecast.gate.half-life", "0"); // a trained model serves: the source says which weights did
        try (CarouselServer server = CarouselServer.prepare(CarouselConfig.of(cfg), s -> { })) {
            server.start();
            assertTrue(server.app().awaitRunning(WAIT), "Kafka Streams did not start: " + server.app().state());
            Http http = new Http(server.port());
            // two rounds of events, each ending with a training of the group: two versions to go back through
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.app().bootstrapServers()))) {
                for (int round = 0; round < 2; round++) {
                    produce(server.app().bootstrapServers(), round * 200, round * 200 + 200);
                    assertTrue(KafkaIO.awaitConsumed(admin, "carousel-group-rollback", "carousel.events", WAIT), "events not consumed");
                    awaitSettled(http, round + 1);
                }
            }
            JsonNode before = http.get("/models/sensor").json();
            long serving = before.get("serving").asLong();
            assertTrue(serving >= 2, "at least two group versions: " + before);

            assertEquals(401, http.post("/models/sensor/rollback", "", null).status());
            assertEquals(404, http.post("/models/none/rollback", "", TOKEN).status());
            for (int step = 0; step < 10; step++) {
                JsonNode m = http.get("/models/sensor").json();
                long from = m.get("serving").asLong();
                long previous = m.get("versions").get(0).get("previousVersion").asLong();
                Http.Answer a = http.post("/models/sensor/rollback", "", TOKEN);
                if (a.status() == 409 && previous > 0) {
                    // the trainer keeps the weights of the serving version's two ancestors
                    assertEquals("the weights of version " + previous + " are no longer kept", a.json().get("error").asText());
                    assertEquals(io.carousel.streams.ModelVersions.KEEP_WEIGHTS, step, "two rollbacks in a row are possible");
                    return;
                }
                if (a.status() == 409) {
                    assertTrue(step > 0, "the first rollback had something to return to: " + a);
                    // the key's own state moves to the restored version at its next event
                    produce(server.app().bootstrapServers(), 400, 401);
                    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.app().bootstrapServers()))) {
                        assertTrue(KafkaIO.awaitConsumed(admin, "carousel-group-rollback", "carousel.events", WAIT));
                    }
                    JsonNode k = http.get("/keys/sensor-a").json();
                    assertEquals(401, k.get("events").asLong(), k.toString());
                    assertEquals(from, k.get("modelVersion").asLong(), k.toString());
                    assertEquals("persistence", k.get("source").asText(), "back at the untrained initial model: " + k);
                    assertEquals(k.get("value").asDouble(), k.get("forecast").get("value").asDouble(), 1e-12);
                    return;
                }
                assertEquals(200, a.status(), a.toString());
                assertEquals(from, a.json().get("from").asLong());
                assertEquals(from + 1, a.json().get("to").asLong(), "group versions only grow");
                assertEquals(Math.max(previous, 0), a.json().get("restores").asLong());
                assertEquals(from + 1, a.json().get("serving").asLong());
                String metrics = http.get("/metrics").body();
                assertTrue(metrics.contains("carousel_model_serving_version{model=\"sensor\"} " + (from + 1) + ".0"),
                        "the metric follows the rollback before any event: "
                                + metrics.lines().filter(l -> l.startsWith("carousel_model_serving")).toList());
                JsonNode after = http.get("/models/sensor").json();
                assertEquals(from + 1, after.get("serving").asLong());
                assertEquals(Math.max(previous, 0), after.get("versions").get(0).get("restoredFrom").asLong(), after.toString());
                for (String key : KEYS) {
                    JsonNode f = http.get("/keys/" + key + "/forecast?horizon=2").json();
                    assertEquals(from + 1, f.get("modelVersion").asLong(), "a fresh roll-out uses the restored weights: " + f);
                    assertEquals(previous > 0 ? "lstm" : "persistence", f.get("source").asText(), f.toString());
                }
            }
            fail("the rollbacks never reached the initial model");
        }
    }

    /** The group's model once the trainings that the events asked for are done (no new version for 3 s). */
    private static JsonNode awaitSettled(Http http, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        long last = -1;
        long since = System.nanoTime();
        while (System.nanoTime() < deadline) {
            Http.Answer a = http.get("/models/sensor");
            long v = a.status() == 200 ? a.json().get("serving").asLong() : -1;
            if (v != last) {
                last = v;
                since = System.nanoTime();
            } else if (v >= atLeast && System.nanoTime() - since > 3_000_000_000L) {
                return a.json();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the group model did not settle: " + http.get("/models"));
    }

    private static void produce(String bootstrap, int from, int to) {
        Map<String, Object> p = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = from; i < to; i++) {
                for (int k = 0; k < KEYS.size(); k++) {
                    double v = 10 + 2 * Math.sin(2 * Math.PI * i / 24.0 + k);
                    producer.send(new ProducerRecord<>("carousel.events", KEYS.get(k),
                            String.format(Locale.ROOT, "{\"timestamp\": %d, \"value\": %s}", T0 + i * 60_000L, v)));
                }
            }
            producer.flush();
        }
    }
}
