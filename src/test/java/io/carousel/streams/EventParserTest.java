package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carousel.config.CarouselConfig;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EventParserTest {

    private final EventParser parser = new EventParser(StreamSettings.from(CarouselConfig.of(Map.of())));

    private ParsedEvent parse(String key, String value) throws Rejection {
        return parser.parse(key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.UTF_8), 42L);
    }

    @Test
    void shouldReadEveryTimestampFormat() throws Exception {
        long t = 1396310400000L; // 2014-04-01T00:00:00Z
        assertEquals(t, parse("k", "{\"value\":1,\"timestamp\":\"2014-04-01 00:00:00\"}").timestamp());
        assertEquals(t, parse("k", "{\"value\":1,\"timestamp\":\"2014-04-01T00:00:00Z\"}").timestamp());
        assertEquals(t, parse("k", "{\"value\":1,\"timestamp\":\"2014-04-01T02:00:00+02:00\"}").timestamp());
        assertEquals(t, parse("k", "{\"value\":1,\"timestamp\":\"2014-04-01T00:00:00\"}").timestamp());
        assertEquals(t, parse("k", "{\"value\":1,\"timestamp\":" + t + "}").timestamp());
        assertEquals(t, parse("k", "{\"value\":1,\"timestamp\":" + t / 1000 + "}").timestamp(), "epoch seconds");
        assertEquals(t, parse("k", "{\"value\":1,\"timestamp\":\"" + t + "\"}").timestamp());
        assertEquals(42L, parse("k", "{\"value\":1}").timestamp(), "no field: the record's timestamp");
    }

    @Test
    void shouldKeepTheOriginalBytesAndReadNestedFeatures() throws Exception {
        EventParser p = new EventParser(StreamSettings.from(CarouselConfig.of(Map.of(
                "events.features", "/a/b,/c", "model.outputs", "1"))));
        byte[] raw = "{\"a\": {\"b\": 2.5}, \"c\": -1}".getBytes(StandardCharsets.UTF_8);
        ParsedEvent e = p.parse("k".getBytes(), raw, 0);
        assertArrayEquals(new double[] {2.5, -1}, e.features());
        assertArrayEquals(raw, e.original());
    }

    @Test
    void shouldRejectTrailingGarbageAndDuplicateFields() {
        assertEquals(Rejection.Reason.NOT_JSON,
                assertThrows(Rejection.class, () -> parse("k", "{\"value\":1} {\"value\":2}")).reason());
        assertEquals(Rejection.Reason.NOT_JSON,
                assertThrows(Rejection.class, () -> parse("k", "{\"value\":1, \"value\":2}")).reason());
        assertEquals(Rejection.Reason.KEY_TOO_LONG,
                assertThrows(Rejection.class, () -> parse("k".repeat(2000), "{\"value\":1}")).reason());
    }

    @Test
    void shouldDecodeRecordKeysAsStrictUtf8() throws Exception {
        byte[] value = "{\"value\":1}".getBytes(StandardCharsets.UTF_8);
        assertEquals("sensor-7", parser.parse("sensor-7".getBytes(StandardCharsets.US_ASCII), value, 0).key());
        assertEquals("capteur-été", parser.parse("capteur-été".getBytes(StandardCharsets.UTF_8), value, 0).key());
        Rejection r = assertThrows(Rejection.class, () -> parser.parse(new byte[] {'k', (byte) 0xC3}, value, 0));
        assertEquals(Rejection.Reason.MISSING_KEY, r.reason());
        assertEquals("record key is not valid UTF-8", r.getMessage());
    }

    /** Fuzz: whatever the bytes, the parser returns an event or a Rejection, nothing else. */
    @Test
    void shouldNeverThrowAnythingButARejection() {
        SplittableRandom r = new SplittableRandom(2026);
        String[] pieces = {"{", "}", "[", "]", "\"value\"", ":", ",", "1", "-1e308", "1e999", "NaN", "\"x\"", "null",
            "true", "\"timestamp\"", "\"2014-04-01 00:00:00\"", "9999999999999999999", " ", "\\u0000", "\"\\ud800\""};
        int ok = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] value;
            if (i % 3 == 0) {
                value = new byte[r.nextInt(40)];
                for (int j = 0; j < value.length; j++) {
                    value[j] = (byte) r.nextInt(256);
                }
            } else {
                StringBuilder b = new StringBuilder(i % 2 == 0 ? "{\"value\":" : "");
                for (int j = r.nextInt(8); j >= 0; j--) {
                    b.append(pieces[r.nextInt(pieces.length)]);
                }
                value = b.toString().getBytes(StandardCharsets.UTF_8);
            }
            byte[] key = r.nextInt(10) == 0 ? null : new byte[] {(byte) r.nextInt(256)};
            try {
                ParsedEvent e = parser.parse(key, value, r.nextLong(0, EventParser.MAX_TIMESTAMP));
                assertTrue(Double.isFinite(e.features()[0]));
                ok++;
            } catch (Rejection expected) {
                assertTrue(expected.getMessage() != null && !expected.getMessage().isEmpty());
            }
        }
        assertTrue(ok > 0, "some generated events are valid");
    }

    /**
     * Differential fuzz: the streaming read (top-level fields) and the full-tree read agree on every
     * input, the event's key, time, features and group, or the rejection's reason and message.
     */
    @Test
    void shouldReadTopLevelFieldsExactlyAsTheFullTreeDoes() {
        StreamSettings s = StreamSettings.from(CarouselConfig.of(Map.of("events.features", "/value,/load",
                "model.outputs", "1", "events.key.field", "id", "model.scope", "group", "model.group.field", "site")));
        EventParser streaming = new EventParser(s);
        EventParser tree = new EventParser(s, false);
        SplittableRandom r = new SplittableRandom(7);
        String[] names = {"\"value\"", "\"load\"", "\"id\"", "\"site\"", "\"timestamp\"", "\"other\""};
        String[] values = {"1", "-2.5e3", "1e999", "-1e400", "123456789012345678901234567890", "1" + "0".repeat(400),
            "\"x\"", "\"\"", "null", "true", "[1,2]", "{\"a\":1}", "{\"value\":{\"x\":[{}]}}", "\"2014-04-01 00:00:00\"",
            "1396310400", "\"\\ud800\"", "NaN", "0.1", "-0", "{", "]"};
        String[] good = {"1.5", "-2", "\"a\"", "\"s\""}; // a usable value for each of the four fields read
        int events = 0;
        for (int i = 0; i < 30_000; i++) {
            StringBuilder b = new StringBuilder();
            if (r.nextInt(20) == 0) {
                b.append(values[r.nextInt(values.length)]);
            } else {
                java.util.List<String> fields = new java.util.ArrayList<>();
                for (int f = 0; f < 4; f++) {
                    if (r.nextInt(10) > 0) {
                        fields.add(names[f] + ":" + (r.nextInt(4) > 0 ? good[f] : values[r.nextInt(values.length)]));
                    }
                }
                for (int j = r.nextInt(3); j > 0; j--) { // other fields, timestamps, and sometimes a duplicate
                    fields.add(names[r.nextInt(names.length)] + ":" + values[r.nextInt(values.length)]);
                }
                java.util.Collections.shuffle(fields, new java.util.Random(r.nextLong()));
                b.append('{');
                for (int j = 0; j < fields.size(); j++) {
                    b.append(j == 0 ? "" : r.nextInt(40) == 0 ? " " : ",").append(fields.get(j));
                }
                b.append(r.nextInt(40) == 0 ? "" : "}");
                if (r.nextInt(40) == 0) {
                    b.append(r.nextBoolean() ? " {}" : " x");
                }
            }
            byte[] value = b.toString().getBytes(StandardCharsets.UTF_8);
            String a = outcome(streaming, value);
            assertEquals(outcome(tree, value), a, b.toString());
            if (a.startsWith("event")) {
                events++;
            }
        }
        assertTrue(events > 3000, "enough generated events are valid to compare: " + events);
    }

    private static String outcome(EventParser p, byte[] value) {
        try {
            ParsedEvent e = p.parse(null, value, 42L);
            return "event " + e.key() + " " + e.timestamp() + " " + java.util.Arrays.toString(e.features()) + " " + e.group();
        } catch (Rejection x) {
            return "rejected " + x.reason() + ": " + x.getMessage();
        }
    }
}
