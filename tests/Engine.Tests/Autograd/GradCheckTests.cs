namespace Engine.Tests;

/// <summary>Every function in the catalog passes GradCheck (and GradGradCheck where its backward is recorded).</summary>
public abstract class GradCheckTests
{
    public static TheoryData<string> Cases() => [.. GradCheckCatalog.All.Select(c => c.ToString())];

    private static GradCheckCase Find(string id) => GradCheckCatalog.All.Single(c => c.ToString() == id);

    [Theory, MemberData(nameof(Cases))]
    public void Analytic_gradients_match_finite_differences(string id)
    {
        var c = Find(id);
        using var scope = Tensor.Scope();
        var r = GradCheck.Run(c.Function, c.Inputs(), name: id);
        Assert.True(r.Passed, r.Failure);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Second_order_gradients_match_finite_differences(string id)
    {
        var c = Find(id);
        if (!c.SecondOrder) return;
        using var scope = Tensor.Scope();
        var r = GradCheck.RunGradGrad(c.Function, c.Inputs(), name: id);
        Assert.True(r.Passed, r.Failure);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Fast_mode_agrees(string id)
    {
        var c = Find(id);
        using var scope = Tensor.Scope();
        var r = GradCheck.Run(c.Function, c.Inputs(), new GradCheckOptions { FastMode = true }, name: id);
        Assert.True(r.Passed, r.Failure);
    }
}

public sealed class CpuGradCheckTests : GradCheckTests;
