package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carousel.config.CarouselConfig;
import io.carousel.lstm.LstmModel;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeyForecasterTest {

    /**
     * With a horizon above 1 the roll-out feeds the LSTM its own outputs; it must do so on its own
     * buffers: the event's model input is what a group trains on, and the next event's step starts
     * from the event's state.
     */
    @Test
    void shouldKeepTheEventsInputAndStateApartFromTheRollOut() {
        StreamSettings three = StreamSettings.from(CarouselConfig.of(Map.of("forecast.horizon", "3", "model.hidden", "8")));
        StreamSettings one = StreamSettings.from(CarouselConfig.of(Map.of("forecast.horizon", "1", "model.hidden", "8")));
        ModelSource models = ModelSource.from(three);
        LstmModel m = models.model();
        KeyForecaster a = new KeyForecaster(three, m, 1);
        KeyForecaster b = new KeyForecaster(one, m, 1);
        KeyState ka = a.newState();
        KeyState kb = b.newState();
        Outcome ra = new Outcome();
        Outcome rb = new Outcome();
        for (int i = 0; i < 200; i++) {
            double[] x = {Math.sin(i / 5.0) * 3 + 10};
            long t = 1_700_000_000_000L + i * 60_000L;
            a.process(ka, t, x, ra);
            b.process(kb, t, x, rb);
            assertEquals((x[0] - ka.mean[0]) / KeyForecaster.scale(ka, 0), a.lastInput()[0], 1e-12, "event " + i);
            assertTrue(java.util.Arrays.equals(b.lastInput(), a.lastInput()), "event " + i);
            assertTrue(java.util.Arrays.equals(kb.hc, ka.hc), "the state does not depend on the horizon, event " + i);
            assertEquals(rb.nextForecast[0], ra.nextForecast[0], 0.0);
            assertEquals(ra.nextForecast[0], ra.horizon[0], 0.0, "step 1 of the roll-out is the next forecast");
        }
    }
}
