package io.carousel.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.carousel.http.Exchange.Request;
import io.carousel.http.Exchange.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JDK's built-in HTTP server (module jdk.httpserver) in front of {@link Api} and the
 * dashboard's files. Chosen over Javalin because it adds no dependency at all: Javalin would bring
 * Jetty and the Kotlin standard library into a jar that already carries Kafka's broker, and their
 * Jackson and SLF4J versions to reconcile with Kafka's and ours, for an API of a dozen routes
 * that needs no more than this. Handlers run on a small pool of their own (the
 * server's default would run them all on its one dispatcher thread, and a forwarded request
 * would block every other); the pool is bounded so a flood of requests queues instead of
 * starving the stream threads of the 2 cores.
 */
final class HttpFront {

    private static final Logger LOG = LoggerFactory.getLogger(HttpFront.class);
    static final int THREADS = 8;

    private final HttpServer server;
    private final ExecutorService pool;

    private HttpFront(HttpServer server) {
        this.server = server;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(1000), r -> {
            Thread t = new Thread(r, "carousel-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(pool);
    }

    /**
     * Listens on host:port (port 0 = any free one) without serving yet.
     *
     * @throws IllegalStateException with a one-line message if the address cannot be bound
     */
    static HttpFront bind(String host, int port) {
        try {
            return new HttpFront(HttpServer.create(new InetSocketAddress(host, port), 128));
        } catch (BindException e) {
            throw new IllegalStateException("cannot listen on " + host + ":" + port + ": " + e.getMessage()
                    + " (set http.port to another port, or 0 for any free one)", e);
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    int port() {
        return server.getAddress().getPort();
    }

    void start(Api api, Dashboard dashboard) {
        server.createContext("/", exchange -> serve(exchange, api, dashboard));
        server.start();
    }

    private static void serve(HttpExchange ex, Api api, Dashboard dashboard) throws IOException {
        try (ex) {
            Response res;
            try {
                String path = ex.getRequestURI().getRawPath();
                res = dashboard.serves(path) ? dashboard.get(path) : api.handle(request(ex));
            } catch (RuntimeException e) {
                LOG.error("{} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
                res = Response.error(500, "internal error: " + e);
            }
            res.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
            ex.getResponseHeaders().set("Content-Type", res.contentType());
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            boolean head = ex.getRequestMethod().equals("HEAD");
            ex.sendResponseHeaders(res.status(), head || res.body().length == 0 ? -1 : res.body().length);
            if (!head && res.body().length > 0) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(res.body());
                }
            }
        }
    }

    private static Request request(HttpExchange ex) throws IOException {
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        ex.getRequestHeaders().forEach((k, v) -> {
            if (!v.isEmpty()) {
                headers.put(k, v.get(0));
            }
        });
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readNBytes(Api.MAX_BODY + 1);
        }
        return new Request(ex.getRequestMethod(), ex.getRequestURI().getRawPath(), ex.getRequestURI().getRawQuery(),
                headers, body);
    }

    /** Stops listening; requests under way get a second to finish. */
    void stop() {
        server.stop(1);
        pool.shutdownNow();
    }

}
