package io.carousel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SizingCommandTest {

    @Test
    void shouldPrintTheBytesPerKeyAndTheTotalForNKeys() {
        CliRun r = CliRun.of("sizing", "--keys", "1000", "--key-bytes", "10", "--set", "history.max-events=100");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("key state    644 bytes per key"), r.out());
        assertTrue(r.out().contains("history      55 bytes per event x 100 events = 5,500 bytes per key"), r.out());
        assertTrue(r.out().contains("1,000 keys "), r.out());
    }

    @Test
    void shouldShareModelsOutsideTheKeyScope() {
        CliRun key = CliRun.of("sizing", "--keys", "10");
        CliRun global = CliRun.of("sizing", "--keys", "10", "--set", "model.scope=global");
        assertTrue(key.out().contains("per trained key"), key.out());
        assertTrue(global.out().contains("per group"), global.out());
    }

    @Test
    void shouldRefuseABadKeyCountInOneLine() {
        CliRun r = CliRun.of("sizing", "--keys", "0");
        assertEquals(1, r.exitCode());
        assertEquals("carousel: --keys must be at least 1 (got 0)", r.err().strip());
    }
}
