package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntToDoubleFunction;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seasonal-naive source of the forecast gate under TopologyTestDriver: a key whose history
 * repeats gets a season at its first training, and the gate serves the value one season ago
 * where it beats the LSTM and persistence; a key whose history does not repeat never gets one.
 */
class SeasonalGateTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PERIOD = 50;

    @TempDir
    Path dir;

    /** A square wave of period 50 (25 events high, 25 low): persistence misses every edge. */
    private static double square(int i) {
        return (i % PERIOD) < PERIOD / 2 ? 3.0 : 1.0;
    }

    private record Run(List<JsonNode> enriched, List<JsonNode> forecasts, KeyState state, TopologyHarness harness) {}

    /** Feeds events [0, events) of key "k"; one training at the 400th event, no drift retraining. */
    private static Run run(Path dir, IntToDoubleFunction f, int events, String... kv) throws Exception {
        String[] base = {"retrain.every-events", "400", "retrain.drift", "false"};
        String[] all = new String[base.length + kv.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(kv, 0, all, base.length, kv.length);
        TopologyHarness h = new TopologyHarness(dir, RetrainingTest.config(all));
        List<JsonNode> enriched = RetrainingTest.feed(h, "k", 0, events, f);
        List<JsonNode> forecasts = new ArrayList<>();
        for (String s : TopologyHarness.values(h.forecasts)) {
            forecasts.add(JSON.readTree(s));
        }
        KeyValueStore<String, byte[]> store = h.driver.getKeyValueStore(CarouselTopology.KEY_STATE_STORE);
        return new Run(enriched, forecasts, KeyState.deserialise(store.get("k")), h);
    }

    @Test
    void shouldServeTheSeasonalForecastOfAPeriodicSeriesWhoseErrorGoesToZero() throws Exception {
        int events = 1200;
        Run run = run(dir.resolve("on"), SeasonalGateTest::square, events);
        try (TopologyHarness ignored = run.harness()) {
            List<JsonNode> c = run.enriched();
            assertEquals("persistence", c.get(398).get("source").asText(), "untrained");
            assertEquals(1, c.get(450).get("modelVersion").asLong(), "trained at the 400th event");
            assertEquals(PERIOD, run.state().season, "the season is detected from the key's history");
            // the gate's record over the replayed history already shows the seasonal forecast exact
            int switched = ForecastGateTest.firstFrom(c, 399, "seasonal");
            assertTrue(switched >= 399 && switched < 450, "seasonal from event " + switched);
            double seasonal = 0;
            double persistence = 0;
            for (int i = 450; i < events; i++) {
                JsonNode e = c.get(i);
                assertEquals("seasonal", e.get("source").asText(), "event " + i);
                assertTrue(e.get("modelVersion").asLong() >= 1, "trained again at the 800th: still seasonal");
                // nextForecast, made at event i, is the value one period before event i + 1
                assertEquals(square(i + 1 - PERIOD), e.get("nextForecast").asDouble(), 0.0, "event " + i);
                seasonal += Math.abs(e.get("error").asDouble());
                persistence += Math.abs(square(i) - square(i - 1));
            }
            assertEquals(0.0, seasonal, 1e-12, "the seasonal forecast is exact on a perfectly periodic series");
            assertTrue(persistence / (events - 450) > 0.07, "persistence misses the edges: MAE " + persistence / (events - 450));
            KeyState k = run.state();
            assertEquals(KeyState.SEASONAL, k.gateSource);
            assertEquals(KeyState.SEASONAL, k.forecastSource);
            assertTrue(k.gateSeasonalErr < 1e-9, "seasonal error " + k.gateSeasonalErr);
            assertTrue(k.gatePersistErr > 0.01 && k.gateModelErr > 0.01,
                    "persistence " + k.gatePersistErr + ", LSTM " + k.gateModelErr);
            assertEquals(square(events - PERIOD), k.forecast()[0], 0.0, "the forecast for the next event");
        }
        // switched off: the same run never serves it, and the key has no season
        Run off = run(dir.resolve("off"), SeasonalGateTest::square, events, "forecast.seasonal", "false");
        try (TopologyHarness ignored = off.harness()) {
            assertEquals(-1, ForecastGateTest.firstFrom(off.enriched(), 0, "seasonal"));
            assertEquals(0, off.state().season);
            assertTrue(RetrainingTest.mae(off.enriched(), 450, events) > 0.01, "without it the error stays");
        }
    }

    @Test
    void shouldRollTheSeasonalForecastOutOverTheHorizonAndPastTheSeason() throws Exception {
        int events = 700;
        int horizon = 60; // more than a season: steps 51..60 wrap to the season just seen
        Run run = run(dir, SeasonalGateTest::square, events, "forecast.horizon", Integer.toString(horizon));
        try (TopologyHarness h = run.harness()) {
            for (int i = 500; i < events; i++) {
                JsonNode fc = run.forecasts().get(i);
                assertEquals("seasonal", fc.get("source").asText(), "event " + i);
                JsonNode steps = fc.get("horizon");
                assertEquals(horizon, steps.size());
                for (int s = 1; s <= horizon; s++) {
                    // perfectly periodic: the seasonal roll-out is the future itself
                    assertEquals(square(i + s), steps.get(s - 1).get("forecast").asDouble(), 0.0, "event " + i + " step " + s);
                }
            }
            // a fresh roll-out from the query API says the same
            KeyValueStore<String, byte[]> states = h.driver.getKeyValueStore(CarouselTopology.KEY_STATE_STORE);
            KeyValueStore<String, byte[]> models = h.driver.getKeyValueStore(CarouselTopology.MODEL_STORE);
            KeyValueStore<Bytes, byte[]> history = h.driver.getKeyValueStore(CarouselTopology.HISTORY_STORE);
            Map<String, String> cfg = RetrainingTest.config("retrain.every-events", "400", "retrain.drift", "false",
                    "forecast.horizon", Integer.toString(horizon));
            KeyQueries q = new KeyQueries(StreamSettings.from(CarouselConfig.of(cfg)), ModelSource.from(h.settings));
            byte[] state = states.get("k");
            KeyQueries.Rollout r = q.rollout("k", state, models.get("k"), () -> q.history(history, "k", state, Long.MIN_VALUE),
                    120);
            assertEquals("seasonal", r.source());
            for (int s = 1; s <= 120; s++) {
                assertEquals(square(events - 1 + s), r.steps().get(s - 1).forecast(), 0.0, "step " + s);
            }
            assertEquals("seasonal", q.view("k", state).source());
        }
    }

    @Test
    void shouldNeverGiveARandomWalkASeason() throws Exception {
        for (long seed : new long[] {1, 2}) {
            SplittableRandom r = new SplittableRandom(seed);
            double[] walk = new double[1300];
            for (int i = 1; i < walk.length; i++) {
                walk[i] = walk[i - 1] + 0.1 * RetrainingTest.gaussian(r);
            }
            // three trainings (events 400, 800, 1200), each one a detection over the key's history
            Run run = run(dir.resolve("walk" + seed), i -> walk[i], walk.length);
            try (TopologyHarness ignored = run.harness()) {
                assertTrue(run.state().modelVersion >= 1, "trained: a re-warm looked for a season, seed " + seed);
                assertEquals(0, run.state().season, "seed " + seed);
                assertEquals(-1, ForecastGateTest.firstFrom(run.enriched(), 0, "seasonal"), "seed " + seed);
                assertTrue(Double.isNaN(run.state().gateSeasonalErr));
            }
        }
    }
    /**
     * The re-warm that swaps in new weights detects the season from the history it replays (the
     * path of every accepted training, whether or not one is accepted in a run): 50 for the square
     * wave, none for random walks; and the gate's record over that history already prefers the
     * exact seasonal forecast.
     */
    @Test
    void shouldDetectTheSeasonWhenNewWeightsAreWarmedUpOverTheHistory() {
        StreamSettings s = StreamSettings.from(CarouselConfig.of(Map.of()));
        io.carousel.lstm.LstmModel m = io.carousel.lstm.LstmModel.init(
                new io.carousel.lstm.LstmShape(s.modelInputs(), s.hidden(), s.layers(), s.outputs()), 1);
        Served trained = Served.of(m, 1, s);
        for (long seed = 0; seed < 10; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            double[] walk = new double[2000];
            for (int i = 1; i < walk.length; i++) {
                walk[i] = walk[i - 1] + RetrainingTest.gaussian(r);
            }
            KeyState k = warmed(s, trained, walk);
            assertEquals(0, k.season, "random walk, seed " + seed);
            assertEquals(KeyState.LSTM, new KeyForecaster(s, m, 1).newState().gateSource);
            assertTrue(k.gateSource != KeyState.SEASONAL && Double.isNaN(k.gateSeasonalErr));
        }
        double[] wave = new double[2000];
        for (int i = 0; i < wave.length; i++) {
            wave[i] = square(i);
        }
        KeyState k = warmed(s, trained, wave);
        assertEquals(PERIOD, k.season);
        assertEquals(KeyState.SEASONAL, k.gateSource);
        assertEquals(KeyState.SEASONAL, k.forecastSource);
        assertEquals(square(wave.length - PERIOD), k.forecast[0], 0.0);
        // not trained (a rollback to the initial model): persistence, and no season to pay a read for
        KeyState untrained = warmed(s, Served.of(m, 0, s), wave);
        assertEquals(0, untrained.season);
        assertEquals(KeyState.PERSISTENCE, untrained.forecastSource);
        // switched off
        StreamSettings off = StreamSettings.from(CarouselConfig.of(Map.of("forecast.seasonal", "false")));
        assertEquals(0, warmed(off, Served.of(m, 1, off), wave).season);
    }

    /** A key that has seen {@code v} (one event a minute), then re-warmed under {@code m} over all of it. */
    private static KeyState warmed(StreamSettings s, Served m, double[] v) {
        KeyForecaster f = new KeyForecaster(s, m.model(), 0);
        KeyState k = f.newState();
        Outcome out = new Outcome();
        List<History.Event> events = new ArrayList<>();
        for (int i = 0; i < v.length; i++) {
            long t = 1_700_000_000_000L + i * 60_000L;
            f.process(k, t, new double[] {v[i]}, out);
            events.add(new History.Event(i, t, false, new double[] {v[i]}));
        }
        f.rewarm(k, events, m, 0.1);
        return k;
    }
}
