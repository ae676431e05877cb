package io.carousel.streams;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * Turns a raw record (key bytes, value bytes, record timestamp) into a {@link ParsedEvent}, or
 * says precisely why it cannot: every failure is a {@link Rejection}, never another exception.
 * Strict: numbers must be JSON numbers (not strings), finite, and within double range.
 * Not thread-safe: one per parse step.
 */
public final class EventParser {

    /** Events must lie in [1970, 2200): outside that a timestamp is a unit mistake or garbage. */
    static final long MAX_TIMESTAMP = 7258118400000L;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build();
    private static final DateTimeFormatter NAB = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss[.SSS]");

    private final StreamSettings s;
    private final JsonPointer keyField;
    private final JsonPointer timestampField;
    private final JsonPointer[] features;
    private final JsonPointer groupField;
    private final JsonPointer[] pointers;
    private final int keySlot;
    private final int timestampSlot;
    private final int groupSlot;
    /** Top-level field names by slot, when every field read is one; null: read a full tree. */
    private final String[] topLevel;
    /** The values found for the current record, by slot (reused: one parser per stream thread). */
    private final JsonNode[] found;
    /** Strict (invalid bytes are an error, not U+FFFD); one per parser, which one stream thread owns. */
    private final java.nio.charset.CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();

    /** How a record is read: the lighter reads serve when the fields read are all top-level ones. */
    enum Read {
        /** {@link FlatJson} first, then Jackson's streaming read if the record is not of its subset. */
        FLAT,
        /** Jackson's streaming read over the top-level fields. */
        STREAMING,
        /** Always a full tree: the reference the other reads are tested against. */
        TREE
    }

    /** The flat read of the fields, or null. */
    private final FlatJson flat;

    EventParser(StreamSettings settings, Read read) {
        this.s = settings;
        this.keyField = settings.keyField() == null ? null : pointer(settings.keyField());
        this.timestampField = settings.timestampField() == null ? null : pointer(settings.timestampField());
        this.groupField = settings.scope() == StreamSettings.Scope.GROUP && settings.groupField() != null
                ? pointer(settings.groupField()) : null;
        List<String> f = settings.features();
        this.features = new JsonPointer[f.size()];
        for (int i = 0; i < features.length; i++) {
            features[i] = JsonPointer.compile(f.get(i));
        }
        // the fields read, by slot: the features, then the key, timestamp and group fields (null: not read)
        this.keySlot = features.length;
        this.timestampSlot = keySlot + 1;
        this.groupSlot = keySlot + 2;
        this.pointers = java.util.Arrays.copyOf(features, features.length + 3);
        pointers[keySlot] = keyField;
        pointers[timestampSlot] = settings.timestampFormat() == StreamSettings.TimeFormat.RECORD ? null : timestampField;
        pointers[groupSlot] = groupField;
        this.found = new JsonNode[pointers.length];
        this.topLevel = read == Read.TREE ? null : topLevelNames(pointers);
        this.flat = read == Read.FLAT && topLevel != null ? FlatJson.forNames(topLevel) : null;
    }

    /** The parser as a step uses it: the flat read, then the streaming one, when every field read is a top-level one. */
    public EventParser(StreamSettings settings) {
        this(settings, Read.FLAT);
    }

    /** Each pointer's field name when all are top-level fields ({@code /name}), else null. */
    private static String[] topLevelNames(JsonPointer[] pointers) {
        String[] names = new String[pointers.length];
        for (int i = 0; i < pointers.length; i++) {
            JsonPointer ptr = pointers[i];
            if (ptr == null) {
                continue;
            }
            if (ptr.matches() || !ptr.tail().matches() || !ptr.mayMatchProperty()) {
                return null;
            }
            names[i] = ptr.getMatchingProperty();
        }
        return names;
    }

    /** A field name ("timestamp") or a JSON pointer ("/meta/ts"). */
    static JsonPointer pointer(String field) {
        return field.startsWith("/") ? JsonPointer.compile(field) : JsonPointer.compile("/" + field.replace("~", "~0").replace("/", "~1"));
    }

    public ParsedEvent parse(byte[] key, byte[] value, long recordTimestamp) throws Rejection {
        if (value == null || value.length == 0) {
            throw new Rejection(Rejection.Reason.EMPTY_VALUE, "empty value");
        }
        if (value.length > s.maxBytes()) {
            throw new Rejection(Rejection.Reason.TOO_LARGE, "value of " + value.length + " bytes exceeds events.max-bytes=" + s.maxBytes());
        }
        java.util.Arrays.fill(found, null);
        if (flat == null || !flat.read(value, found)) {
            java.util.Arrays.fill(found, null);
            readJackson(value);
        }
        String k = key(key, found[keySlot]);
        double[] x = new double[features.length];
        for (int i = 0; i < features.length; i++) {
            JsonNode n = found[i];
            if (absent(n)) {
                throw new Rejection(Rejection.Reason.MISSING_FEATURE, "missing feature " + features[i]);
            }
            if (!n.isNumber()) {
                throw new Rejection(Rejection.Reason.NOT_NUMERIC, "feature " + features[i] + " is not a number: " + abbreviate(n.toString()));
            }
            double v = n.doubleValue();
            if (!Double.isFinite(v)) {
                throw new Rejection(Rejection.Reason.NOT_FINITE, "feature " + features[i] + " is not a finite double: " + abbreviate(n.toString()));
            }
            x[i] = v;
        }
        return new ParsedEvent(k, timestamp(found[timestampSlot], recordTimestamp), x, value, group(k, found[groupSlot]));
    }

    /** Fills {@link #found} with Jackson: streaming over top-level fields when it can, else a tree. */
    private void readJackson(byte[] value) throws Rejection {
        try (JsonParser p = JSON.createParser(value)) {
            if (topLevel == null || !scan(p)) {
                JsonNode root = JSON.readTree(p);
                noTrailingContent(p);
                if (root == null || !root.isObject()) {
                    throw new Rejection(Rejection.Reason.NOT_OBJECT, "not a JSON object: "
                            + (root == null ? "nothing" : root.getNodeType().name().toLowerCase()));
                }
                for (int i = 0; i < pointers.length; i++) {
                    found[i] = pointers[i] == null ? null : root.at(pointers[i]);
                }
            }
        } catch (Rejection r) {
            throw r;
        } catch (Exception e) {
            throw new Rejection(Rejection.Reason.NOT_JSON, "not JSON: " + firstLine(e.getMessage()));
        }
    }

    private static void noTrailingContent(JsonParser p) throws java.io.IOException, Rejection {
        if (p.nextToken() != null) {
            throw new Rejection(Rejection.Reason.NOT_JSON, "not JSON: trailing content after the value");
        }
    }

    private static boolean absent(JsonNode n) {
        return n == null || n.isMissingNode() || n.isNull();
    }

    /**
     * The streaming read, when every field read is a top-level one: the object's fields are
     * tokenised once, the wanted values kept as small nodes and the rest skipped (still checked,
     * so malformed or duplicate content anywhere is rejected exactly as by a full tree).
     */
    private boolean scan(JsonParser p) throws java.io.IOException, Rejection {
        JsonToken t = p.nextToken();
        if (t != JsonToken.START_OBJECT) {
            return false; // not an object: the tree read says what it is (from this token on)
        }
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            JsonNode n = null;
            for (int i = 0; i < topLevel.length; i++) {
                if (name.equals(topLevel[i])) {
                    if (n == null) {
                        n = value(p);
                    }
                    found[i] = n;
                }
            }
            if (n == null) {
                p.skipChildren();
            }
        }
        if (t != JsonToken.END_OBJECT) {
            throw new Rejection(Rejection.Reason.NOT_JSON, "not JSON: unexpected end of input");
        }
        noTrailingContent(p);
        return true;
    }

    /** The value at the parser's current token, as the node a full tree would have there. */
    private static JsonNode value(JsonParser p) throws java.io.IOException {
        return switch (p.currentToken()) {
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> IntNode.valueOf(p.getIntValue());
                case LONG -> LongNode.valueOf(p.getLongValue());
                default -> BigIntegerNode.valueOf(p.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> DoubleNode.valueOf(p.getDoubleValue());
            case VALUE_STRING -> TextNode.valueOf(p.getText());
            default -> JSON.readTree(p); // null, booleans, objects and arrays: rare, and never usable as a number
        };
    }

    private String key(byte[] recordKey, JsonNode n) throws Rejection {
        String k;
        if (keyField == null) {
            if (recordKey == null || recordKey.length == 0) {
                throw new Rejection(Rejection.Reason.MISSING_KEY, "missing record key (events are keyed by the record key)");
            }
            if (recordKey.length > s.maxKeyBytes()) {
                throw keyTooLong(recordKey.length);
            }
            k = decodeUtf8(recordKey);
        } else {
            if (absent(n) || n.isContainerNode() || n.asText().isEmpty()) {
                throw new Rejection(Rejection.Reason.MISSING_KEY, "missing key field " + keyField);
            }
            k = n.asText();
            int len = k.getBytes(StandardCharsets.UTF_8).length;
            if (len > s.maxKeyBytes()) {
                throw keyTooLong(len);
            }
        }
        return k;
    }

    /** The key's model group: null per key, "*" for all, else the group field or the pattern's match on the key. */
    private String group(String key, JsonNode n) throws Rejection {
        switch (s.scope()) {
            case KEY:
                return null;
            case GLOBAL:
                return "*";
            default:
                if (groupField != null) {
                    if (absent(n) || n.isContainerNode() || n.asText().isEmpty()) {
                        throw new Rejection(Rejection.Reason.MISSING_GROUP, "missing group field " + groupField);
                    }
                    return n.asText();
                }
                java.util.regex.Matcher m = s.groupPattern().matcher(key);
                if (!m.find()) {
                    throw new Rejection(Rejection.Reason.MISSING_GROUP, "key does not match model.group.pattern " + s.groupPattern());
                }
                return m.groupCount() >= 1 && m.group(1) != null ? m.group(1) : m.group();
        }
    }

    private Rejection keyTooLong(int len) {
        return new Rejection(Rejection.Reason.KEY_TOO_LONG, "key of " + len + " bytes exceeds events.max-key-bytes=" + s.maxKeyBytes());
    }

    private String decodeUtf8(byte[] b) throws Rejection {
        boolean ascii = true;
        for (byte x : b) {
            ascii &= x >= 0;
        }
        if (ascii) {
            return new String(b, StandardCharsets.ISO_8859_1); // the usual key: valid, and a plain copy
        }
        try {
            return utf8.decode(java.nio.ByteBuffer.wrap(b)).toString(); // decode() resets the decoder first
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new Rejection(Rejection.Reason.MISSING_KEY, "record key is not valid UTF-8");
        }
    }

    private long timestamp(JsonNode n, long recordTimestamp) throws Rejection {
        long ts;
        if (absent(n)) { // no field, or timestamps from the record (events.timestamp-format=record)
            ts = recordTimestamp;
        } else {
            ts = parseTimestamp(n, s.timestampFormat());
        }
        if (ts < 0 || ts >= MAX_TIMESTAMP) {
            throw new Rejection(Rejection.Reason.BAD_TIMESTAMP, "timestamp " + ts + " ms is outside 1970..2200");
        }
        return ts;
    }

    /** A timestamp in milliseconds from a JSON number or string, in the given format. */
    static long parseTimestamp(JsonNode n, StreamSettings.TimeFormat format) throws Rejection {
        if (n.isNumber()) {
            double v = n.doubleValue();
            if (!Double.isFinite(v)) {
                throw new Rejection(Rejection.Reason.BAD_TIMESTAMP, "unparseable timestamp " + abbreviate(n.toString()));
            }
            return numeric(v, format);
        }
        if (!n.isTextual()) {
            throw new Rejection(Rejection.Reason.BAD_TIMESTAMP, "unparseable timestamp " + abbreviate(n.toString()));
        }
        return parseTimestamp(n.asText(), format);
    }

    /** Parses ISO-8601 (with or without zone; without is UTC), NAB's "yyyy-MM-dd HH:mm:ss", or epoch digits. */
    public static long parseTimestamp(String text, StreamSettings.TimeFormat format) throws Rejection {
        String t = text.trim();
        if (format != StreamSettings.TimeFormat.ISO && t.matches("-?\\d+(\\.\\d+)?")) {
            return numeric(Double.parseDouble(t), format);
        }
        if (format == StreamSettings.TimeFormat.MILLIS || format == StreamSettings.TimeFormat.SECONDS) {
            throw new Rejection(Rejection.Reason.BAD_TIMESTAMP, "unparseable timestamp \"" + abbreviate(t) + "\": expected epoch " + format.name().toLowerCase());
        }
        try {
            if (t.endsWith("Z") || t.endsWith("z")) {
                return Instant.parse(t.toUpperCase()).toEpochMilli();
            }
            if (t.length() > 19 && (t.indexOf('+', 19) > 0 || t.indexOf('-', 19) > 0)) {
                return OffsetDateTime.parse(t.replace(' ', 'T')).toInstant().toEpochMilli();
            }
            if (t.indexOf('T') > 0) {
                return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC).toEpochMilli();
            }
            return LocalDateTime.parse(t, NAB).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new Rejection(Rejection.Reason.BAD_TIMESTAMP, "unparseable timestamp \"" + abbreviate(t) + "\"");
        }
    }

    private static long numeric(double v, StreamSettings.TimeFormat format) throws Rejection {
        boolean seconds = format == StreamSettings.TimeFormat.SECONDS
                || (format != StreamSettings.TimeFormat.MILLIS && Math.abs(v) < 1e11); // 1e11 s is year 5138
        double ms = seconds ? v * 1000 : v;
        if (!(ms >= 0 && ms < MAX_TIMESTAMP)) {
            throw new Rejection(Rejection.Reason.BAD_TIMESTAMP, "timestamp " + v + (seconds ? " s" : " ms") + " is outside 1970..2200");
        }
        return (long) ms;
    }

    static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    private static String firstLine(String m) {
        if (m == null) {
            return "unreadable";
        }
        int nl = m.indexOf('\n');
        return abbreviate(nl < 0 ? m : m.substring(0, nl));
    }
}
