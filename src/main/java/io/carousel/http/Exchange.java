package io.carousel.http;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A request and its response as the API handles them, apart from any server: {@link HttpFront}
 * turns the JDK server's exchanges into these, and tests call {@link Api#handle} with them
 * directly. Header names are case-insensitive.
 */
final class Exchange {

    record Request(String method, String rawPath, String rawQuery, Map<String, String> headers, byte[] body) {
        Request {
            TreeMap<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            h.putAll(headers);
            headers = h;
            body = body == null ? new byte[0] : body;
        }

        static Request get(String pathAndQuery) {
            return of("GET", pathAndQuery, Map.of(), null);
        }

        static Request of(String method, String pathAndQuery, Map<String, String> headers, byte[] body) {
            int q = pathAndQuery.indexOf('?');
            return new Request(method, q < 0 ? pathAndQuery : pathAndQuery.substring(0, q),
                    q < 0 ? null : pathAndQuery.substring(q + 1), headers, body);
        }

        String header(String name) {
            return headers.get(name);
        }

        String pathAndQuery() {
            return rawPath + (rawQuery == null ? "" : "?" + rawQuery);
        }
    }

    record Response(int status, String contentType, Map<String, String> headers, byte[] body) {
        static Response json(int status, Object node) {
            try {
                return new Response(status, "application/json; charset=utf-8", Map.of(), Views.JSON.writeValueAsBytes(node));
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        static Response error(int status, String message) {
            return json(status, Views.error(status, message));
        }

        /** 503 with Retry-After: the answer during a rebalance, never a wrong one. */
        static Response unavailable(String message) {
            Response r = error(503, message);
            return r.with("Retry-After", "1");
        }

        static Response text(int status, String contentType, String body) {
            return new Response(status, contentType, Map.of(), body.getBytes(StandardCharsets.UTF_8));
        }

        Response with(String header, String value) {
            Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            h.putAll(headers);
            h.put(header, value);
            return new Response(status, contentType, h, body);
        }
    }

    private Exchange() { }

    static List<String> segments(String rawPath) {
        List<String> out = new java.util.ArrayList<>();
        for (String s : rawPath.split("/")) {
            if (!s.isEmpty()) {
                out.add(java.net.URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    static Map<String, String> query(String rawQuery) {
        Map<String, String> q = new TreeMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return q;
        }
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = java.net.URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            q.put(k, v);
        }
        return q;
    }
}
