package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.carousel.scoring.ScoreState;
import org.junit.jupiter.api.Test;

class KeyStateTest {

    @Test
    void shouldRoundTripEveryField() {
        KeyState k = new KeyState(3, 2, 2 * 2 * 32, ScoreState.initial(2));
        k.modelVersion = 7;
        k.count = 123_456_789_012L;
        k.lastTimestamp = 1_700_000_000_123L;
        k.meanInterval = 60_000.5;
        k.last[2] = -4.25;
        k.mean[1] = 1e300;
        k.var[0] = Double.MIN_VALUE;
        k.forecast[1] = 3.5;
        k.forecastFromModel = true;
        k.hc[100] = -0.75f;
        k.lastScore = 0.999;
        k.eventsSinceTrain = 17;
        k.lastTrainedAt = 1_600_000_000_000L;
        k.trainMse = 0.25;
        k.driftSum = -3;
        k.driftMin = -4;
        byte[] bytes = k.serialise();
        assertEquals(k.serialisedSize(), bytes.length);
        KeyState back = KeyState.deserialise(bytes);
        assertArrayEquals(bytes, back.serialise());
        assertEquals(Double.NaN, back.forecast[0]);
        assertEquals(3.5, back.forecast[1]);
        assertEquals(-0.75f, back.hc[100]);
        assertEquals(k.score, back.score);
        assertEquals(17, back.eventsSinceTrain);
        assertEquals(-4, back.driftMin);
    }

    @Test
    void shouldRejectAnUnknownFormatAndTrailingBytes() {
        byte[] bytes = new KeyState(1, 1, 64, ScoreState.initial(1)).serialise();
        bytes[0] = 9;
        assertThrows(IllegalArgumentException.class, () -> KeyState.deserialise(bytes));
        byte[] longer = java.util.Arrays.copyOf(new KeyState(1, 1, 64, ScoreState.initial(1)).serialise(), bytes.length + 1);
        assertThrows(IllegalArgumentException.class, () -> KeyState.deserialise(longer));
    }

    @Test
    void shouldTakeThisManyBytesPerKeyAtHidden32() {
        // one feature, one output, 1 layer of 32: h and c as floats dominate
        int bytes = new KeyState(1, 1, 2 * 32, ScoreState.initial(1)).serialisedSize();
        assertEquals(1 + 32 + 8 + 32 + 1 + 256 + ScoreState.byteSize(1) + 8 + 40, bytes);
    }
}
