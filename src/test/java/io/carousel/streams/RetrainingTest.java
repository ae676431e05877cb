package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retraining under TopologyTestDriver, where training runs synchronously at the point the schedule says. */
class RetrainingTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path dir;

    static Map<String, String> config(String... kv) {
        Map<String, String> m = new HashMap<>(Map.of("retrain.every-events", "400", "retrain.seq-len", "32",
                "retrain.epochs", "20", "retrain.batch", "16", "retrain.lr", "0.01", "model.hidden", "16"));
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    static double noisySine(int i, SplittableRandom r) {
        return Math.sin(2 * Math.PI * i / 40.0) + 0.05 * gaussian(r);
    }

    static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** Sends events and returns their enriched carousel objects. */
    static List<JsonNode> feed(TopologyHarness h, String key, int from, int to, java.util.function.IntToDoubleFunction f)
            throws Exception {
        for (int i = from; i < to; i++) {
            h.send(key, "{\"timestamp\": " + (T0 + i * 60_000L) + ", \"value\": " + f.applyAsDouble(i) + "}", 0);
        }
        List<JsonNode> out = new ArrayList<>();
        for (String s : TopologyHarness.values(h.enriched)) {
            out.add(JSON.readTree(s).get("carousel"));
        }
        return out;
    }

    static double mae(List<JsonNode> c, int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += Math.abs(c.get(i).get("error").asDouble());
        }
        return sum / (to - from);
    }

    @Test
    void shouldRetrainWhenDueAndForecastFarBetterThanPersistence() throws Exception {
        SplittableRandom r = new SplittableRandom(7);
        try (TopologyHarness h = new TopologyHarness(dir, config())) {
            List<JsonNode> c = feed(h, "sine", 0, 1600, i -> noisySine(i, r));
            assertEquals("persistence", c.get(399).get("source").asText());
            assertEquals(0, c.get(399).get("modelVersion").asLong());
            JsonNode last = c.get(1599);
            assertEquals("lstm", last.get("source").asText());
            assertTrue(last.get("modelVersion").asLong() >= 1, "retrained: " + last);
            double before = mae(c, 100, 400);
            double after = mae(c, 1300, 1600);
            System.out.printf("persistence MAE %.4f, after retraining %.4f (version %d)%n", before, after,
                    last.get("modelVersion").asLong());
            assertTrue(after < 0.6 * before, "MAE after retraining " + after + " vs persistence " + before);
        }
    }
}
