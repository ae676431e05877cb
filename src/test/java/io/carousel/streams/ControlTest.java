package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ControlTest {

    @Test
    void shouldRoundTripFeedbackAndRollback() {
        Control f = Control.feedback(1_700_000_000_000L, false);
        assertEquals("{\"type\":\"feedback\",\"timestamp\":1700000000000,\"anomaly\":false}",
                new String(f.toBytes(), StandardCharsets.UTF_8));
        assertEquals(f, Control.parse(f.toBytes()));
        assertEquals(Control.rollback(), Control.parse(Control.rollback().toBytes()));
    }

    @Test
    void shouldRefuseAnythingElse() {
        for (String bad : new String[] {"", "not json", "[]", "{}", "{\"type\":\"reboot\"}",
            "{\"type\":\"feedback\",\"timestamp\":\"x\",\"anomaly\":false}", "{\"type\":\"feedback\",\"timestamp\":1}"}) {
            assertThrows(IllegalArgumentException.class, () -> Control.parse(bad.getBytes(StandardCharsets.UTF_8)), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> Control.parse(null));
    }
}
