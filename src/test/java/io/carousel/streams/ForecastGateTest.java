package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmShape;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forecast gate under TopologyTestDriver: a trained LSTM serves only while its recent error is
 * below persistence's, and validation never accepts a model that persistence beats.
 */
class ForecastGateTest {

    @TempDir
    Path dir;

    /**
     * A noisy sine, except over events [from, to) that the model never trains on: a steady ramp
     * (from the sine's level up, out of the range the model knows; persistence is off by the slope
     * only), or the same ramp up and down again to the sine's level.
     */
    private static double sineExcept(int i, SplittableRandom r, boolean ramp, int from, int to) {
        if (i < from || i >= to) {
            return RetrainingTest.noisySine(i, r);
        }
        return 0.05 * (ramp ? i - from : Math.min(i - from, to - i));
    }

    private record Run(List<JsonNode> outputs, KeyState state) {}

    /** One training, at the 400th event, and no drift retraining: the sine model stays in place to the end. */
    private static Run run(Path dir, String halfLife, boolean ramp, int from, int to, int events) throws Exception {
        SplittableRandom r = new SplittableRandom(11);
        try (TopologyHarness h = new TopologyHarness(dir, RetrainingTest.config("retrain.every-events", "400",
                "retrain.drift", "false", "forecast.gate.half-life", halfLife))) {
            List<JsonNode> c = RetrainingTest.feed(h, "k", 0, events, i -> sineExcept(i, r, ramp, from, to));
            var store = h.driver.<String, byte[]>getKeyValueStore(CarouselTopology.KEY_STATE_STORE);
            return new Run(c, KeyState.deserialise(store.get("k")));
        }
    }

    /** The event's value, from what the enriched record carries. */
    private static double value(JsonNode c) {
        return c.get("forecast").asDouble() + c.get("error").asDouble();
    }

    /** The first record from index {@code from} on whose source is {@code source}, or -1. */
    static int firstFrom(List<JsonNode> c, int from, String source) {
        for (int i = from; i < c.size(); i++) {
            if (c.get(i).get("source").asText().equals(source)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void shouldFallBackToPersistenceWhereTheServingLstmIsWorse() throws Exception {
        Run gated = run(dir.resolve("gate"), "200", true, 400, 760, 760);
        List<JsonNode> c = gated.outputs();
        assertEquals("persistence", c.get(398).get("source").asText(), "untrained");
        // on the sine the model was accepted, and the gate, started from its record over the history, serves it
        for (int i = 400; i < 410; i++) {
            assertEquals(1, c.get(i).get("modelVersion").asLong());
            assertEquals("lstm", c.get(i).get("source").asText(), "event " + i);
        }
        // on the ramp persistence is far better: the gate falls back to it while the model stays version 1
        int switched = firstFrom(c, 400, "persistence");
        assertTrue(switched > 400 && switched < 600, "switched to persistence at event " + switched);
        for (int i = 650; i < 760; i++) {
            JsonNode e = c.get(i);
            assertEquals(1, e.get("modelVersion").asLong());
            assertEquals("persistence", e.get("source").asText(), "event " + i);
            assertEquals(value(e), e.get("nextForecast").asDouble(), 1e-9, "persistence forecasts the value");
        }
        // without the gate the LSTM serves throughout, far worse
        Run off = run(dir.resolve("off"), "0", true, 400, 760, 760);
        for (int i = 650; i < 760; i++) {
            assertEquals("lstm", off.outputs().get(i).get("source").asText(), "no gate: event " + i);
        }
        double withGate = RetrainingTest.mae(c, 650, 760);
        double without = RetrainingTest.mae(off.outputs(), 650, 760);
        assertTrue(withGate < 0.5 * without, "MAE with the gate " + withGate + " vs without " + without);
        // the LSTM kept stepping while persistence served: its state and own forecast are the ungated run's
        org.junit.jupiter.api.Assertions.assertArrayEquals(off.state().hc, gated.state().hc);
        assertEquals(off.state().forecast()[0], gated.state().modelForecast[0], 0.0);
        assertTrue(gated.state().gateSource == KeyState.PERSISTENCE && gated.state().gatePersistErr < gated.state().gateModelErr);
    }

    @Test
    void shouldSwitchBackToTheLstmWhenTheNoisySineReturns() throws Exception {
        // sine (trained on), a ramp up and down that the model does not know, then the sine again
        Run run = run(dir, "50", false, 400, 520, 900);
        List<JsonNode> c = run.outputs();
        int off = firstFrom(c, 400, "persistence");
        assertTrue(off > 400 && off < 520, "fell back to persistence on the ramp at event " + off);
        int on = firstFrom(c, 520, "lstm");
        assertTrue(on > 520 && on < 800, "back to the LSTM on the sine at event " + on);
        for (int i = 800; i < 900; i++) {
            assertEquals("lstm", c.get(i).get("source").asText(), "event " + i);
            assertEquals(1, c.get(i).get("modelVersion").asLong());
        }
        assertEquals(KeyState.LSTM, run.state().gateSource);
        assertTrue(run.state().gateModelErr < run.state().gatePersistErr);
        double persistence = 0;
        for (int i = 800; i < 900; i++) {
            persistence += Math.abs(value(c.get(i)) - value(c.get(i - 1)));
        }
        double served = RetrainingTest.mae(c, 800, 900);
        assertTrue(served < 0.7 * persistence / 100, "served MAE " + served + " vs persistence " + persistence / 100);
    }

    @Test
    void shouldDecideOnlyOnceItsAveragesSpanTheirWindowAndThenWithHysteresis() {
        double alpha = KeyForecaster.gateAlpha(10); // a window of 1 / alpha = 14.9 events
        KeyState k = new KeyState(1, 1, 2, io.carousel.scoring.ScoreState.initial(1));
        assertEquals(KeyState.LSTM, k.gateSource, "a new key trusts its trained model");
        for (int i = 1; i <= 14; i++) {
            KeyForecaster.gateStep(k, 1.0, 0.1, alpha); // persistence ten times better
            assertEquals(KeyState.LSTM, k.gateSource, "no decision after " + i + " events");
        }
        assertEquals(1.0, k.gateModelErr, 1e-12, "a plain mean so far");
        KeyForecaster.gateStep(k, 1.0, 0.1, alpha);
        assertEquals(KeyState.PERSISTENCE, k.gateSource, "persistence after 15 events");
        // the LSTM becomes slightly better: within the 5 % margin nothing changes
        for (int i = 0; i < 200; i++) {
            KeyForecaster.gateStep(k, 0.97, 1.0, alpha);
        }
        assertEquals(KeyState.PERSISTENCE, k.gateSource, "3 % better is inside the hysteresis");
        for (int i = 0; i < 200; i++) {
            KeyForecaster.gateStep(k, 0.9, 1.0, alpha);
        }
        assertEquals(KeyState.LSTM, k.gateSource, "10 % better takes over");
    }

    @Test
    void shouldRefuseACandidateThatBeatsTheServingModelButNotPersistence() {
        // a slow random walk: persistence is nearly exact; the serving model is random weights
        SplittableRandom r = new SplittableRandom(9);
        int rows = 400;
        double[] series = new double[rows];
        double x = 0;
        for (int i = 0; i < rows; i++) {
            x += 0.1 * RetrainingTest.gaussian(r); // about unit spread over 400 steps, as standardised inputs
            series[i] = x;
        }
        LstmShape shape = new LstmShape(1, 8, 1, 1);
        LstmModel serving = LstmModel.init(shape, 1);
        RetrainSettings oneEpoch = new RetrainSettings(400, 0, false, true, 1, 32, 16, 0.01, 1, 0.1, 1, true, true,
                2000, Long.MAX_VALUE, true, io.carousel.lstm.Loss.MSE);
        Retrainer.Result res = Retrainer.run(new Retrainer.Job("k", LstmModel.init(shape, 2), serving, 1, series,
                new int[] {rows}, 0, 1, 1), oneEpoch);
        assertTrue(res.valLoss() < res.servingValLoss(), "the candidate beats the serving model: " + res.valLoss()
                + " vs " + res.servingValLoss());
        assertTrue(!res.accepted(), "accepted a model that persistence beats");
        assertTrue(res.reason().contains("persistence"), res.reason());
    }
}
