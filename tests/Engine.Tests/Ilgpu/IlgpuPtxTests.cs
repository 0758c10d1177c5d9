using Engine.Kernels;
using ILGPU.Runtime.Cuda;

namespace Engine.Tests;

/// <summary>
/// The CUDA path compiles without a GPU: every float32 kernel translates to PTX for an H100/H200
/// (requested sm_90), so an unsupported intrinsic or a generic call ILGPU cannot lower fails here, in CI,
/// rather than on the first GPU machine.
/// </summary>
public sealed class IlgpuPtxTests
{
    public static TheoryData<string> Kernels() => [.. IlgpuBackend.Float32Kernels().Select(k => k.Name)];

    [Theory, MemberData(nameof(Kernels))]
    public void Float32_kernel_compiles_to_ptx_without_a_gpu(string name)
    {
        var (_, method, grouped) = IlgpuBackend.Float32Kernels().Single(k => k.Name == name);
        string ptx = IlgpuBackend.CompilePtx(method, grouped, CudaArchitecture.SM_90, CudaInstructionSet.ISA_85);
        Assert.Contains(".entry", ptx);
        Assert.Matches(@"\.target\s+sm_[89]\d", ptx);   // ILGPU 1.5.3 targets sm_80 PTX at most; the driver JITs it for sm_90
    }
}
