package io.carousel.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.carousel.config.CarouselConfig;
import io.carousel.e2e.KafkaIO;
import io.carousel.streams.CarouselTopology;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances of one application (same application.id, own state directories and HTTP ports)
 * in one JVM on one embedded broker: instance A answers for a key that B holds by forwarding to
 * B, lists gather both instances' keys, a write through A reaches B's task, and when B leaves,
 * A answers 503 with Retry-After until it holds the key itself, then with B's state (restored
 * from the changelog), never with a wrong or empty answer.
 */
class ForwardingTest {

    static final int KEYS = 16;
    static final int EVENTS = 40;
    static final long T0 = 1_709_251_200_000L;
    static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    private Map<String, String> config(String name) {
        Map<String, String> c = new HashMap<>();
        c.put("state.dir", tmp.resolve("state-" + name).toString());
        c.put("application.id", "carousel-fwd");
        c.put("commit.interval.ms", "100");
        c.put("topic.partitions", "4");
        c.put("http.port", "0");
        c.put("retrain.every-events", "0");
        // every instance counts as caught up: tasks spread at once instead of after probing rebalances
        c.put("acceptable.recovery.lag", "1000000000");
        return c;
    }

    @Test
    @Timeout(240)
    void anyInstanceAnswersForAnyKeyAndNeverWrongDuringARebalance() throws Exception {
        Map<String, String> ca = config("a");
        ca.put("embedded.port", "0");
        ca.put("embedded.dir", tmp.resolve("kafka").toString());
        try (CarouselServer a = CarouselServer.prepare(CarouselConfig.of(ca), s -> { })) {
            a.start();
            assertTrue(a.app().awaitRunning(WAIT));
            Map<String, String> cb = config("b");
            cb.put("bootstrap.servers", a.app().bootstrapServers());
            CarouselServer b = CarouselServer.prepare(CarouselConfig.of(cb), s -> { });
            try {
                b.start();
                awaitBothHoldTasks(a, b);
                produce(a.app().bootstrapServers());
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, a.app().bootstrapServers()))) {
                    assertTrue(KafkaIO.awaitConsumed(admin, "carousel-fwd", "carousel.events", WAIT));
                }
                awaitBothHoldTasks(a, b);
                Http viaA = new Http(a.port());
                Http viaB = new Http(b.port());

                String key = keyOwnedBy(a, b.advertised());
                Http.Answer forwarded = viaA.get("/keys/" + key);
                assertEquals(200, forwarded.status(), forwarded.toString());
                assertEquals(b.advertised(), forwarded.header("X-Carousel-Served-By"), "A forwarded to B");
                assertEquals(EVENTS, forwarded.json().get("events").asLong());
                assertEquals(viaB.get("/keys/" + key).json(), forwarded.json(), "the same answer as B's own");
                assertEquals(3, viaA.get("/keys/" + key + "/forecast?horizon=3").json().get("horizon").size());
                assertEquals(404, viaA.get("/keys/nobody").status());

                // lists: both instances' keys, through either, paged
                assertEquals(allKeys(), names(viaA.get("/keys?limit=1000").json()));
                assertEquals(allKeys(), names(viaB.get("/keys?limit=1000").json()));
                Set<String> paged = new LinkedHashSet<>();
                String after = null;
                for (int i = 0; i < 10; i++) {
                    JsonNode page = viaA.get("/keys?limit=5" + (after == null ? "" : "&after=" + after)).json();
                    paged.addAll(names(page));
                    if (page.get("next").isNull()) {
                        break;
                    }
                    after = page.get("next").asText();
                }
                assertEquals(allKeys(), new ArrayList<>(paged));

                // a write through A is applied by B's task
                Http.Answer fb = viaA.post("/keys/" + key + "/feedback",
                        "{\"timestamp\": " + (T0 + 20 * 60_000L) + ", \"anomaly\": true}", null);
                assertEquals(200, fb.status(), fb.toString());
                assertEquals(1, fb.json().get("state").get("feedback").get("missedAnomalies").asLong());

                // B leaves: A answers 503 until it holds the key, then with B's state
                b.close();
                List<Integer> seen = new ArrayList<>();
                long deadline = System.nanoTime() + WAIT.toNanos();
                Http.Answer last = null;
                while (System.nanoTime() < deadline) {
                    last = viaA.get("/keys/" + key);
                    seen.add(last.status());
                    if (last.status() == 200) {
                        break;
                    }
                    assertEquals(503, last.status(), "during the rebalance: " + last);
                    assertEquals("1", last.header("Retry-After"));
                    Thread.sleep(100);
                }
                assertEquals(200, last.status(), "A never took over: " + seen);
                assertEquals(EVENTS, last.json().get("events").asLong(), "B's state, restored from the changelog");
                assertEquals(1, last.json().get("feedback").get("missedAnomalies").asLong());
                assertEquals(allKeys(), names(viaA.get("/keys?limit=1000").json()));
            } finally {
                b.close();
            }
        }
    }

    private static void awaitBothHoldTasks(CarouselServer a, CarouselServer b) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (a.app().state() == KafkaStreams.State.RUNNING && b.app().state() == KafkaStreams.State.RUNNING
                    && holdsTasks(a) && holdsTasks(b)
                    && a.app().streams().streamsMetadataForStore(CarouselTopology.KEY_STATE_STORE).size() == 2) {
                return;
            }
            Thread.sleep(100);
        }
        fail("the instances did not share the tasks: " + a.app().state() + " / " + b.app().state());
    }

    private static boolean holdsTasks(CarouselServer s) {
        return s.app().streams().metadataForLocalThreads().stream().anyMatch(t -> !t.activeTasks().isEmpty());
    }

    private static String keyOwnedBy(CarouselServer asked, String owner) {
        for (String k : allKeys()) {
            KeyQueryMetadata m = asked.app().streams().queryMetadataForKey(CarouselTopology.KEY_STATE_STORE, k,
                    Serdes.String().serializer());
            if ((m.activeHost().host() + ":" + m.activeHost().port()).equals(owner)) {
                return k;
            }
        }
        throw new AssertionError("no key is held by " + owner);
    }

    private static List<String> allKeys() {
        Set<String> keys = new TreeSet<>();
        for (int i = 0; i < KEYS; i++) {
            keys.add(String.format(Locale.ROOT, "pump-%02d", i));
        }
        return new ArrayList<>(keys);
    }

    private static List<String> names(JsonNode page) {
        List<String> out = new ArrayList<>();
        page.get("keys").forEach(k -> out.add(k.get("key").asText()));
        return out;
    }

    private static void produce(String bootstrap) {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < EVENTS; i++) {
                for (String k : allKeys()) {
                    p.send(new ProducerRecord<>("carousel.events", k, String.format(Locale.ROOT,
                            "{\"timestamp\": %d, \"value\": %s}", T0 + i * 60_000L, Math.sin(i / 3.0 + k.hashCode()))));
                }
            }
            p.flush();
        }
    }
}
