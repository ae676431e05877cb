package io.carousel.http;

import io.carousel.http.Exchange.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The dashboard's files, from the jar: the page, its script and style, and the chart library
 * (uPlot, from its webjar, bundled at build time, so the page needs no network). Only these
 * paths are served; everything else is the API's.
 */
final class Dashboard {

    static final String UPLOT = "/webjars/uplot/1.6.30/dist/";
    private static final Map<String, String[]> FILES = Map.of(
            "/", new String[] {"io/carousel/http/dashboard/index.html", "text/html; charset=utf-8"},
            "/index.html", new String[] {"io/carousel/http/dashboard/index.html", "text/html; charset=utf-8"},
            "/dashboard.js", new String[] {"io/carousel/http/dashboard/dashboard.js", "text/javascript; charset=utf-8"},
            "/dashboard.css", new String[] {"io/carousel/http/dashboard/dashboard.css", "text/css; charset=utf-8"},
            UPLOT + "uPlot.iife.min.js", new String[] {"META-INF/resources" + UPLOT + "uPlot.iife.min.js", "text/javascript; charset=utf-8"},
            UPLOT + "uPlot.min.css", new String[] {"META-INF/resources" + UPLOT + "uPlot.min.css", "text/css; charset=utf-8"});

    boolean serves(String path) {
        return FILES.containsKey(path);
    }

    Response get(String path) {
        String[] f = FILES.get(path);
        try (InputStream in = Dashboard.class.getClassLoader().getResourceAsStream(f[0])) {
            if (in == null) {
                return Response.error(500, "the jar lacks " + f[0]);
            }
            return new Response(200, f[1], Map.of(), in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
