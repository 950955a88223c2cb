using FuncGateway.Model;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Model;

public class RegistryFingerprintTests
{
    private static readonly List<RegistryRow> Many =
        [.. Enumerable.Range(0, 300).Select(i => Route($"r{i}", $"/r{i}", "http://10.0.0.1")), Upstream("pool", "[]")];

    [Fact]
    public void Rows_in_any_order_give_one_fingerprint_and_one_row_more_or_less_another()
    {
        var one = Of(Many);
        var shuffled = Many.OrderBy(_ => Random.Shared.Next()).ToList();

        Assert.Equal(one, Of(shuffled));
        Assert.NotEqual(one, Of(Many.Skip(1)));
        Assert.NotEqual(one, Of([.. Many, Route("extra", "/extra", "http://10.0.0.1")]));
        Assert.Equal(64, one.Length); // SHA-256, hex
    }

    [Fact]
    public void A_row_with_an_etag_counts_by_its_keys_and_etag_so_a_keys_only_read_gives_the_full_reads_fingerprint()
    {
        var keysOnly = Many.Select(r => r with { Properties = new Dictionary<string, object?>() });
        Assert.Equal(Of(Many), Of(keysOnly));

        var rewritten = Many.Select((r, i) => i == 7 ? r with { ETag = "W/\"rewritten\"" } : r);
        Assert.NotEqual(Of(Many), Of(rewritten));

        // The same keys in another table are another row.
        var moved = Many.Select((r, i) => i == 7 ? r with { Table = RegistryTable.Schemas } : r);
        Assert.NotEqual(Of(Many), Of(moved));
    }

    [Fact]
    public void A_row_without_an_etag_counts_by_its_properties()
    {
        var row = Route("a", "/a", "http://10.0.0.1") with { ETag = null };

        Assert.Equal(Of([row]), Of([row with { Properties = new Dictionary<string, object?>(row.Properties) }]));
        Assert.NotEqual(Of([row]), Of([row with { Properties = new Dictionary<string, object?>(row.Properties) { ["Path"] = "/b" } }]));
    }

    [Fact]
    public void Reused_row_arrays_carry_nothing_from_an_earlier_fingerprint()
    {
        // Arrays are pooled and sized from the previous fingerprint: a small registry after a large one, a large one
        // after a small one, and concurrent ones must each count exactly their own rows.
        var large = Of(Many);
        var small = Of(Many.Take(3));

        Assert.Equal(small, Of(Many.Take(3)));
        Assert.Equal(large, Of(Many));
        var concurrent = Enumerable.Range(0, 8).AsParallel().AsOrdered().Select(i => i % 2 == 0 ? Of(Many) : Of(Many.Take(3))).ToArray();
        Assert.All(concurrent.Where((_, i) => i % 2 == 0), f => Assert.Equal(large, f));
        Assert.All(concurrent.Where((_, i) => i % 2 == 1), f => Assert.Equal(small, f));
        Assert.NotEqual(large, Of(Many.Take(3)));
    }

    private static string Of(IEnumerable<RegistryRow> rows)
    {
        var list = rows.ToList();
        return RegistryFingerprint.Of(new RegistryContent(
            [.. list.Where(r => r.Table == RegistryTable.Upstreams)], [.. list.Where(r => r.Table == RegistryTable.Routes)])
        {
            Schemas = [.. list.Where(r => r.Table == RegistryTable.Schemas)],
        });
    }
}
