using FuncGateway.Caching;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace FuncGateway.Core.Tests.Caching;

public sealed class ResponseCacheStoreTests
{
    private static ResponseCacheStore Store(long maxEntry, long maxTotal) =>
        new(Options.Create(new CacheOptions { MaxEntryBytes = maxEntry, MaxTotalBytes = maxTotal }));

    private static CacheEntry Entry(string key, int bodyBytes, string path = "/a", string route = "r", params string[] tags) =>
        new(key, route, path, 200, [new("Content-Type", ["text/plain"])], new byte[bodyBytes], 0, TimeSpan.TicksPerMinute, TimeSpan.TicksPerMinute, TimeSpan.TicksPerMinute, 0, tags);

    [Fact]
    public void The_least_recently_used_entries_go_first_once_the_total_is_passed()
    {
        var store = Store(4096, 10_000);
        var size = Entry("a", 2000).Size;
        foreach (var key in new[] { "a", "b", "c", "d" })
        {
            Assert.True(store.Set(key, [], Entry(key, 2000)));
        }

        // "a" is read, so "b" is now the least recently used.
        Assert.NotNull(store.Get("a"));
        store.Set("e", [], Entry("e", 2000));

        Assert.True(store.TotalBytes <= 10_000);
        Assert.Null(store.Get("b"));
        Assert.NotNull(store.Get("a"));
        Assert.NotNull(store.Get("e"));
        Assert.Equal(store.Count * size, store.TotalBytes);
    }

    [Fact]
    public void An_entry_over_the_entry_cap_is_not_stored()
    {
        var store = Store(4096, 100_000);
        Assert.False(store.Set("big", [], Entry("big", 5000)));
        Assert.Null(store.Get("big"));
        Assert.Equal(0, store.TotalBytes);
    }

    [Fact]
    public void Replacing_an_entry_keeps_the_total_right()
    {
        var store = Store(4096, 100_000);
        store.Set("a", [], Entry("a", 1000));
        store.Set("a", [], Entry("a", 3000));
        Assert.Equal(1, store.Count);
        Assert.Equal(Entry("a", 3000).Size, store.TotalBytes);
    }

    [Fact]
    public void The_full_key_holds_the_values_of_the_headers_the_upstream_varied_on()
    {
        var store = Store(4096, 100_000);
        var french = new HeaderDictionary { ["Accept-Language"] = "fr" };
        var english = new HeaderDictionary { ["Accept-Language"] = "en" };
        Assert.Equal("p", store.FullKey("p", french));

        var key = ResponseCacheStore.FullKey("p", ["accept-language"], french);
        store.Set("p", ["accept-language"], Entry(key, 10));
        Assert.NotNull(store.Get(store.FullKey("p", french)));
        Assert.Null(store.Get(store.FullKey("p", english)));
    }

    [Fact]
    public void Purges_match_by_route_by_segment_prefix_and_by_tag()
    {
        var now = DateTimeOffset.UnixEpoch;
        var store = Store(4096, 100_000);
        store.Set("1", [], Entry("1", 10, "/products", "catalog", "p1"));
        store.Set("2", [], Entry("2", 10, "/products/2", "catalog", "p2"));
        store.Set("3", [], Entry("3", 10, "/productsale", "sale"));
        store.Set("4", [], Entry("4", 10, "/other", "other", "p1", "p2"));

        Assert.Equal(2, store.RemoveWhere(CachePurge.Create(CachePurgeKind.Prefix, "/products/", now, out _)!.Matches));
        Assert.NotNull(store.Get("3"));
        Assert.Equal(1, store.RemoveWhere(CachePurge.Create(CachePurgeKind.Tag, "p2", now, out _)!.Matches));
        Assert.Equal(1, store.RemoveWhere(CachePurge.Create(CachePurgeKind.Route, "sale", now, out _)!.Matches));
        Assert.Equal(0, store.Count);
        Assert.Null(CachePurge.Create(CachePurgeKind.Prefix, "products", now, out var error));
        Assert.Contains("starts with '/'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"v1\"", null, true)]
    [InlineData("W/\"v1\"", null, true)]
    [InlineData("\"v0\", \"v1\"", null, true)]
    [InlineData("*", null, true)]
    [InlineData("\"v2\"", null, false)]
    [InlineData("\"v2\"", "Wed, 01 Jan 2025 00:00:00 GMT", false)]
    [InlineData(null, "Wed, 01 Jan 2025 00:00:00 GMT", true)]
    [InlineData(null, "Thu, 02 Jan 2025 00:00:00 GMT", true)]
    [InlineData(null, "Tue, 31 Dec 2024 00:00:00 GMT", false)]
    public void Conditional_requests_follow_rfc_9110(string? ifNoneMatch, string? ifModifiedSince, bool notModified)
    {
        var entry = new CacheEntry("k", "r", "/", 200, [new("ETag", ["\"v1\""]), new("Last-Modified", ["Wed, 01 Jan 2025 00:00:00 GMT"])], [], 0, 1, 1, 1, 0, []);
        IHeaderDictionary headers = new HeaderDictionary();
        if (ifNoneMatch is not null)
        {
            headers.IfNoneMatch = ifNoneMatch;
        }

        if (ifModifiedSince is not null)
        {
            headers.IfModifiedSince = ifModifiedSince;
        }

        Assert.Equal(notModified, CacheResponse.IsNotModified(headers, entry));
    }
}
