package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * model.target=change under TopologyTestDriver: the LSTM forecasts the next change, which on a
 * smooth series is what persistence gets wrong, so it beats persistence where a level forecast of
 * the same size has to be precise to a fraction of a step.
 */
class ChangeTargetTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** A smooth oscillation, slow against the event rate: every step is a small change. */
    private static double smooth(int i) {
        return 10 + 5 * Math.sin(2 * Math.PI * i / 100.0) + 2 * Math.sin(2 * Math.PI * i / 37.0);
    }

    private static double value(JsonNode c) {
        return c.get("forecast").asDouble() + c.get("error").asDouble();
    }

    @Test
    void shouldForecastTheChangeAndBeatPersistenceOnASmoothSeries() throws Exception {
        try (TopologyHarness h = new TopologyHarness(dir, RetrainingTest.config("model.target", "change",
                "retrain.every-events", "400", "forecast.horizon", "3"))) {
            assertEquals(2, h.settings.modelInputs(), "the last change, then the level");
            List<JsonNode> c = RetrainingTest.feed(h, "k", 0, 1200, ChangeTargetTest::smooth);
            JsonNode last = c.get(1199);
            assertTrue(last.get("modelVersion").asLong() >= 1, "trained: " + last);
            double persistence = 0;
            for (int i = 1000; i < 1200; i++) {
                persistence += Math.abs(value(c.get(i)) - value(c.get(i - 1)));
                assertEquals("lstm", c.get(i).get("source").asText(), "event " + i);
            }
            persistence /= 200;
            double mae = RetrainingTest.mae(c, 1000, 1200);
            assertTrue(mae < 0.5 * persistence, "MAE " + mae + " vs persistence " + persistence);
            // the horizon rolls the changes forward from the last value: close to the curve 3 steps on
            List<String> f = TopologyHarness.values(h.forecasts);
            JsonNode horizon = JSON.readTree(f.get(f.size() - 1)).get("horizon");
            assertEquals(3, horizon.size());
            for (int s = 0; s < 3; s++) {
                double want = smooth(1200 + s);
                double step = Math.abs(smooth(1200 + s) - smooth(1199 + s));
                assertTrue(Math.abs(horizon.get(s).get("forecast").asDouble() - want) < (s + 1) * step,
                        "step " + (s + 1) + ": " + horizon.get(s) + " vs " + want);
            }
        }
    }
}
