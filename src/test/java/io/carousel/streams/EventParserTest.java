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

    private static final StreamSettings FUZZ = StreamSettings.from(CarouselConfig.of(Map.of("events.features", "/value,/load",
            "model.outputs", "1", "events.key.field", "id", "model.scope", "group", "model.group.field", "site")));
    /** The fields FUZZ reads, by the parser's slots: the features, the key, the timestamp, the group. */
    private static final String[] FUZZ_NAMES = {"value", "load", "id", "timestamp", "site"};

    /**
     * Differential fuzz: the flat read, Jackson's streaming read (top-level fields) and the
     * full-tree read agree on every input: the event's key, time, features and group, or the
     * rejection's reason and message. The flat read must also take most of the well-formed ones
     * itself, or the comparison would hold Jackson only to Jackson.
     */
    @Test
    void shouldReadTopLevelFieldsExactlyAsTheFullTreeDoes() {
        EventParser flat = new EventParser(FUZZ);
        EventParser streaming = new EventParser(FUZZ, EventParser.Read.STREAMING);
        EventParser tree = new EventParser(FUZZ, EventParser.Read.TREE);
        FlatJson flatRead = FlatJson.forNames(FUZZ_NAMES);
        SplittableRandom r = new SplittableRandom(7);
        String[] names = {"\"value\"", "\"load\"", "\"id\"", "\"site\"", "\"timestamp\"", "\"other\"", "\"val\\u0075e\"", "\"valuee\""};
        String[] values = {"1", "-2.5e3", "1e999", "-1e400", "123456789012345678901234567890", "1" + "0".repeat(400),
            "\"x\"", "\"\"", "null", "true", "false", "[1,2]", "{\"a\":1}", "{\"value\":{\"x\":[{}]}}", "\"2014-04-01 00:00:00\"",
            "1396310400", "1396310400000", "\"\\ud800\"", "\"a\\\"b\"", "\"caf\u00e9\"", "\"tab\there\"", "\"del\u007f\"",
            "NaN", "-Infinity", "0.1", "-0", "-0.0", "01", "1.", ".5", "-", "1e", "1e+", "+1", "1x", "truex", "nul", "2147483648",
            "-9223372036854775808", "999999999999999999", "9007199254740993.0", "1e-400", "{", "]", ""};
        String[] good = {"1.5", "-2", "\"a\"", "\"s\""}; // a usable value for each of the four fields read
        String[] space = {"", "", "", "", " ", "\n", "\t ", "\r\n"};
        int events = 0;
        int flatTook = 0;
        for (int i = 0; i < 30_000; i++) {
            StringBuilder b = new StringBuilder();
            if (r.nextInt(20) == 0) {
                b.append(values[r.nextInt(values.length)]);
            } else {
                java.util.List<String> fields = new java.util.ArrayList<>();
                for (int f = 0; f < 4; f++) {
                    if (r.nextInt(10) > 0) {
                        fields.add(names[f] + space[r.nextInt(space.length)] + ":" + space[r.nextInt(space.length)]
                                + (r.nextInt(4) > 0 ? good[f] : values[r.nextInt(values.length)]));
                    }
                }
                for (int j = r.nextInt(3); j > 0; j--) { // other fields, timestamps, and sometimes a duplicate
                    fields.add(names[r.nextInt(names.length)] + ":" + values[r.nextInt(values.length)]);
                }
                java.util.Collections.shuffle(fields, new java.util.Random(r.nextLong()));
                b.append(space[r.nextInt(space.length)]).append('{');
                for (int j = 0; j < fields.size(); j++) {
                    b.append(j == 0 ? "" : r.nextInt(40) == 0 ? " " : ",").append(space[r.nextInt(space.length)]).append(fields.get(j));
                }
                b.append(space[r.nextInt(space.length)]).append(r.nextInt(40) == 0 ? "" : "}").append(space[r.nextInt(space.length)]);
                if (r.nextInt(40) == 0) {
                    b.append(r.nextBoolean() ? " {}" : " x");
                }
            }
            byte[] value = b.toString().getBytes(StandardCharsets.UTF_8);
            String expected = outcome(tree, value);
            assertEquals(expected, outcome(streaming, value), "streaming: " + b);
            assertEquals(expected, outcome(flat, value), "flat: " + b);
            if (expected.startsWith("event")) {
                events++;
                flatTook += flatRead.read(value, new com.fasterxml.jackson.databind.JsonNode[FUZZ_NAMES.length]) ? 1 : 0;
            }
        }
        assertTrue(events > 3000, "enough generated events are valid to compare: " + events);
        assertTrue(flatTook > events / 2, "the flat read took " + flatTook + " of the " + events + " valid events");
    }

    /**
     * Numbers, the flat read's own arithmetic, held to Jackson's: short and long mantissas, every
     * exponent from the exact powers of ten to beyond double range, integers at the int and long
     * edges, and the doubles Java prints.
     */
    @Test
    void shouldReadNumbersExactlyAsJacksonDoes() {
        EventParser flat = new EventParser(FUZZ);
        EventParser tree = new EventParser(FUZZ, EventParser.Read.TREE);
        FlatJson flatRead = FlatJson.forNames(FUZZ_NAMES);
        SplittableRandom r = new SplittableRandom(11);
        int took = 0;
        int n = 40_000;
        for (int i = 0; i < n; i++) {
            String number = switch (r.nextInt(5)) {
                case 0 -> Double.toString((r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(-30, 30)));
                case 1 -> String.format(java.util.Locale.ROOT, "%." + r.nextInt(0, 12) + "f", (r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(0, 12)));
                case 2 -> (r.nextBoolean() ? "-" : "") + digits(r, r.nextInt(1, 21)) + "e" + (r.nextBoolean() ? "-" : "") + r.nextInt(0, 330);
                case 3 -> (r.nextBoolean() ? "-" : "") + digits(r, r.nextInt(1, 20)) + "." + "0".repeat(r.nextInt(0, 25)) + digits(r, r.nextInt(1, 6));
                default -> Long.toString(r.nextBoolean() ? r.nextLong() : r.nextInt()) ;
            };
            byte[] value = ("{\"id\":\"k\",\"site\":\"s\",\"value\":" + number + ",\"load\":" + number + "}").getBytes(StandardCharsets.UTF_8);
            assertEquals(outcome(tree, value), outcome(flat, value), number);
            took += flatRead.read(value, new com.fasterxml.jackson.databind.JsonNode[FUZZ_NAMES.length]) ? 1 : 0;
        }
        assertTrue(took > n / 2, "the flat read took " + took + " of " + n);
    }

    /** n decimal digits, the first not 0. */
    private static String digits(SplittableRandom r, int n) {
        StringBuilder b = new StringBuilder().append((char) ('1' + r.nextInt(9)));
        for (int i = 1; i < n; i++) {
            b.append((char) ('0' + r.nextInt(10)));
        }
        return b.toString();
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
