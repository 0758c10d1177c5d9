using BenchmarkDotNet.Running;

namespace Engine.Benchmarks;

/// <summary>
/// Entry point: BenchmarkDotNet's switcher, so any subset runs from the command line, e.g.
/// <c>dotnet run -c Release --project bench/Engine.Benchmarks -- --filter '*Sgemm*'</c>;
/// <c>-- autograd-overhead</c> prints the autograd bookkeeping per recorded op instead, <c>-- launch-overhead</c>
/// the cost of one small op on ILGPU's CPU accelerator beside the CPU backend, <c>-- conv-algorithms</c> every convolution
/// algorithm on the geometries its choice rules come from, <c>-- onnx-profile</c> an ONNX model's inference node by node.
/// The side-by-side comparison with libtorch is a separate program (bench/Compare).
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args is ["autograd-overhead", ..])
            AutogradOverhead.Report(Console.Out);
        else if (args is ["launch-overhead", ..])
            LaunchOverhead.Report(Console.Out);
        else if (args is ["conv-algorithms", .. var rest])
            ConvAlgorithms.Report(Console.Out, rest);
        else if (args is ["onnx-profile", .. var profileArgs])
            OnnxProfile.Report(Console.Out, profileArgs);
        else
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
