package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carousel.config.CarouselConfig;
import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmShape;
import java.lang.management.ManagementFactory;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The per-event step with a trained model and the forecast gate, with and without a season, allocates nothing. */
class KeyForecasterAllocationTest {

    @Test
    void shouldStepForecastAndGateWithoutAllocating() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (String target : new String[] {"level", "change", "seasonal"}) {
            boolean seasonal = target.equals("seasonal");
            if (seasonal) {
                target = "level";
            }
            StreamSettings s = StreamSettings.from(CarouselConfig.of(Map.of("model.target", target)));
            LstmModel m = LstmModel.init(new LstmShape(s.modelInputs(), s.hidden(), s.layers(), s.outputs()), 1);
            KeyForecaster f = new KeyForecaster(s, m, 1); // version 1: the LSTM forecasts, the gate runs
            KeyState k = f.newState();
            Outcome r = new Outcome();
            double[] x = new double[1];
            double[] back = seasonal ? new double[1] : null;
            k.season = seasonal ? 300 : 0;
            k.smoothing = seasonal ? 0.3 : 0; // and the smoothed source beside it
            long t = 1_700_000_000_000L;
            for (int i = 0; i < 20_000; i++) { // warm-up, so the JIT has compiled the path
                x[0] = Math.sin(i / 7.0) + (i % 300 == 0 ? 5 : 0);
                if (seasonal) {
                    back[0] = Math.sin((i + 1 - 300) / 7.0) + ((i + 1) % 300 == 0 ? 5 : 0);
                }
                f.process(k, t + i * 60_000L, x, back, r);
            }
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 20_000; i < 30_000; i++) {
                x[0] = Math.sin(i / 7.0) + (i % 300 == 0 ? 5 : 0);
                if (seasonal) {
                    back[0] = Math.sin((i + 1 - 300) / 7.0) + ((i + 1) % 300 == 0 ? 5 : 0);
                }
                f.process(k, t + i * 60_000L, x, back, r);
            }
            long bytes = mx.getCurrentThreadAllocatedBytes() - before;
            assertTrue(bytes < 10_000, target + (seasonal ? " with a season" : "") + ": " + bytes
                    + " bytes allocated over 10,000 events");
            if (seasonal) {
                assertTrue(Double.isFinite(k.gateSeasonalErr), "the seasonal path ran");
                assertTrue(Double.isFinite(k.gateSmoothedErr), "the smoothed path ran");
            }
        }
    }
}
