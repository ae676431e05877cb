package io.carousel.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.carousel.http.Exchange.Request;
import io.carousel.http.Exchange.Response;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a request on to the instance that owns its key, and relays the answer as it is (status,
 * body, Retry-After); an instance that cannot be reached gives 503, as during a rebalance the
 * metadata may name one that just left. Uses the JDK's client: no second HTTP stack.
 */
final class Forwarder {

    private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);
    static final Duration TIMEOUT = Duration.ofSeconds(15);
    private static final List<String> PASSED_ON = List.of("Authorization", "Content-Type", "Accept");

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3))
            .version(HttpClient.Version.HTTP_1_1).build();

    Response forward(HostInfo to, Request r, HostInfo self) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(to, r.pathAndQuery())).timeout(TIMEOUT)
                .method(r.method(), r.body().length == 0 ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(r.body()))
                .header(Api.FORWARDED, self.host() + ":" + self.port());
        for (String h : PASSED_ON) {
            if (r.header(h) != null) {
                b.header(h, r.header(h));
            }
        }
        try {
            HttpResponse<byte[]> res = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (String h : List.of("Retry-After", "WWW-Authenticate", "Allow")) {
                res.headers().firstValue(h).ifPresent(v -> headers.put(h, v));
            }
            headers.put("X-Carousel-Served-By", to.host() + ":" + to.port());
            return new Response(res.statusCode(), res.headers().firstValue("Content-Type").orElse("application/json"),
                    headers, res.body());
        } catch (IOException e) {
            LOG.info("cannot forward {} {} to {}: {}", r.method(), r.rawPath(), to, e.toString());
            return Response.unavailable("instance " + to.host() + ":" + to.port() + " that holds the key did not answer");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Response.unavailable("interrupted");
        }
    }

    /** An instance's answer to a list request for its own partitions, or null if it gave none. */
    JsonNode get(HostInfo to, String pathAndQuery, HostInfo self) {
        HttpRequest req = HttpRequest.newBuilder(uri(to, pathAndQuery)).timeout(TIMEOUT)
                .header(Api.FORWARDED, self.host() + ":" + self.port()).GET().build();
        try {
            HttpResponse<byte[]> res = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
            return res.statusCode() == 200 ? Views.JSON.readTree(res.body()) : null;
        } catch (IOException e) {
            LOG.info("cannot ask {} for {}: {}", to, pathAndQuery, e.toString());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static URI uri(HostInfo to, String pathAndQuery) {
        String host = to.host().contains(":") && !to.host().startsWith("[") ? "[" + to.host() + "]" : to.host();
        return URI.create("http://" + host + ":" + to.port() + pathAndQuery);
    }
}
