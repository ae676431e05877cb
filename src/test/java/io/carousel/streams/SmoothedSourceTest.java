package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carousel.config.CarouselConfig;
import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmShape;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The smoothed source of the gate: simple exponential smoothing, its weight fitted when new
 * weights are warmed up over the key's history, served where it beats the LSTM and persistence.
 */
class SmoothedSourceTest {

    private static final long T0 = 1_700_000_000_000L;

    /** Noise around a level that does a random walk: the series simple exponential smoothing is optimal for. */
    private static double[] localLevel(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        double level = 10;
        for (int i = 0; i < n; i++) {
            level += 0.3 * RetrainingTest.gaussian(r);
            v[i] = level + RetrainingTest.gaussian(r);
        }
        return v;
    }

    @Test
    void shouldFitTheWeightAtTheReWarmAndServeTheSmoothedLevel() {
        StreamSettings s = StreamSettings.from(CarouselConfig.of(Map.of()));
        LstmModel m = LstmModel.init(new LstmShape(s.modelInputs(), s.hidden(), s.layers(), s.outputs()), 1);
        double[] v = localLevel(4, 2600);
        KeyForecaster f = new KeyForecaster(s, m, 0);
        KeyState k = f.newState();
        Outcome out = new Outcome();
        List<History.Event> events = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            f.process(k, T0 + i * 60_000L, new double[] {v[i]}, out);
            events.add(new History.Event(i, T0 + i * 60_000L, false, new double[] {v[i]}));
        }
        Served trained = Served.of(m, 1, s);
        f.use(trained);
        f.rewarm(k, events, trained, 0.1);
        assertTrue(k.smoothing > 0.1 && k.smoothing < 0.5, "weight " + k.smoothing);
        assertEquals(0, k.season, "no season in a local level");
        // the gate's record over the history already prefers it to the (untrained-weight) LSTM and to persistence
        assertEquals(KeyState.SMOOTHED, k.gateSource);
        assertEquals(KeyState.SMOOTHED, k.forecastSource);
        double level = k.level[0];
        assertEquals(level, k.forecast[0], 0.0);
        double served = 0;
        double persistence = 0;
        OutputWriter w = new OutputWriter(s);
        for (int i = 2000; i < v.length; i++) {
            double forecast = k.forecast[0];
            f.process(k, T0 + i * 60_000L, new double[] {v[i]}, out);
            level += k.smoothing * (v[i] - level);
            assertEquals(level, k.level[0], 1e-9, "the level follows the recursion, event " + i);
            assertEquals(KeyState.SMOOTHED, k.forecastSource, "event " + i);
            assertEquals(level, out.nextForecast(0), 1e-9);
            served += Math.abs(v[i] - forecast);
            persistence += Math.abs(v[i] - v[i - 1]);
        }
        assertTrue(served < 0.9 * persistence, "smoothed MAE " + served / 600 + " vs persistence " + persistence / 600);
        String forecasts = new String(w.forecast("k", out), StandardCharsets.UTF_8);
        assertTrue(forecasts.contains("\"source\":\"smoothed\""), forecasts);

        // switched off: no weight, and the gate never serves it
        StreamSettings off = StreamSettings.from(CarouselConfig.of(Map.of("forecast.smoothing", "false")));
        KeyForecaster g = new KeyForecaster(off, m, 1);
        KeyState k2 = g.newState();
        g.rewarm(k2, events, Served.of(m, 1, off), 0.1);
        assertEquals(0.0, k2.smoothing);
        assertTrue(k2.gateSource != KeyState.SMOOTHED && Double.isNaN(k2.level[0]));
    }

    @Test
    void shouldGiveARandomWalkNoWeight() {
        StreamSettings s = StreamSettings.from(CarouselConfig.of(Map.of()));
        LstmModel m = LstmModel.init(new LstmShape(s.modelInputs(), s.hidden(), s.layers(), s.outputs()), 1);
        for (long seed = 0; seed < 5; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            List<History.Event> events = new ArrayList<>();
            double x = 0;
            KeyForecaster f = new KeyForecaster(s, m, 0);
            KeyState k = f.newState();
            Outcome out = new Outcome();
            for (int i = 0; i < 2000; i++) {
                x += RetrainingTest.gaussian(r);
                f.process(k, T0 + i * 60_000L, new double[] {x}, out);
                events.add(new History.Event(i, T0 + i * 60_000L, false, new double[] {x}));
            }
            f.rewarm(k, events, Served.of(m, 1, s), 0.1);
            assertEquals(0.0, k.smoothing, "seed " + seed);
            assertTrue(Double.isNaN(k.gateSmoothedErr) && k.gateSource != KeyState.SMOOTHED);
        }
    }
}
