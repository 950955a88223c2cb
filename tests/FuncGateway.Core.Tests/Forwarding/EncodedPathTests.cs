using FuncGateway.Diagnostics;
using FuncGateway.Forwarding;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Core.Tests.Forwarding;

public class EncodedPathTests
{
    [Theory]
    [InlineData("/files/..%2Fsecrets")]
    [InlineData("/files/..%2fsecrets")]
    [InlineData("/files/a%2F..%2Fb")]
    [InlineData("/files/a%2F..")]
    [InlineData("/files/.%2Fb")]
    [InlineData("/files/..%5Cb")]
    [InlineData("/files/a\\..\\b")]
    [InlineData("/files/..\\")]
    [InlineData("/%2F..")]
    [InlineData("/files/...%2Fb")] // Windows servers read "..." as ".."
    [InlineData("/files/.. %2Fb")]
    public void A_dot_segment_behind_an_encoded_slash_or_a_backslash_is_refused(string path)
    {
        var refusal = EncodedPath.Check(new PathString(path));

        Assert.NotNull(refusal);
        Assert.Equal(StatusCodes.Status400BadRequest, refusal.Value.Status);
        Assert.Equal(ProblemCodes.InvalidPath, refusal.Value.Code);
    }

    [Theory]
    [InlineData("/api/items/42")]
    [InlineData("/npm/@types%2Fcors")]
    [InlineData("/files/a%2Fb%2Fc")]
    [InlineData("/files/..a%2Fb")]
    [InlineData("/files/a%2F.hidden")]
    [InlineData("/files/a\\b")]
    [InlineData("/files/100%")]
    [InlineData("/files/a..b/c.d./e. f/ /.x")]
    [InlineData("")]
    public void Other_paths_pass(string path)
    {
        Assert.Null(EncodedPath.Check(new PathString(path)));
    }

    [Theory]
    [InlineData("/files/...")]
    [InlineData("/files/.. /b")]
    [InlineData("/files/. ./b")]
    [InlineData("/files/..../b")]
    [InlineData("/files/..")] // Kestrel removes plain dot segments; a host that does not gets them refused too
    public void A_segment_of_dots_and_spaces_is_refused_because_windows_servers_read_it_as_a_dot_segment(string path)
    {
        var refusal = EncodedPath.Check(new PathString(path));

        Assert.NotNull(refusal);
        Assert.Equal(ProblemCodes.InvalidPath, refusal.Value.Code);
    }

    [Theory]
    [InlineData("/api/admin%2Fusers", "/api/admin/users")]
    [InlineData("/api/admin%2fusers", "/api/admin/users")]
    [InlineData("/api/admin%5Cusers", "/api/admin/users")]
    [InlineData("/api/admin\\users", "/api/admin/users")]
    [InlineData("/api//admin/users", "/api/admin/users")]
    [InlineData("/api/admin;jsessionid=1/users", "/api/admin/users")]
    [InlineData("/api/admin./users", "/api/admin/users")]
    [InlineData("/api/admin..", "/api/admin")]
    [InlineData("/api/admin /users", "/api/admin/users")]
    [InlineData("/api/admin. ./users", "/api/admin/users")]
    [InlineData("/api/ /admin", "/api/admin")]
    public void A_lenient_server_reads_these_paths_differently(string path, string lenient)
    {
        Assert.Equal(lenient, AmbiguousPath.Lenient(path));
    }

    [Theory]
    [InlineData("/api/items/42")]
    [InlineData("/api/items/42/")]
    [InlineData("/api/items/report.json")]
    [InlineData("/")]
    [InlineData("/api/100%25")]
    [InlineData("/api/my files/a b")]
    public void The_usual_path_reads_the_same(string path)
    {
        Assert.Null(AmbiguousPath.Lenient(path));
    }
}
