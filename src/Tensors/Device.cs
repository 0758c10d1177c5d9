using Engine.Kernels;

namespace Engine;

/// <summary>The kinds of device a tensor can live on.</summary>
public enum DeviceKind
{
    /// <summary>Host memory, computed by <see cref="CpuBackend"/>.</summary>
    Cpu,
    /// <summary>An NVIDIA GPU through ILGPU's CUDA accelerator.</summary>
    Cuda,
    /// <summary>A GPU through ILGPU's OpenCL accelerator.</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator: the GPU kernels run on the host (for tests).</summary>
    IlgpuCpu,
}

/// <summary>Where a tensor's memory lives and which backend computes on it.</summary>
/// <param name="Kind">The kind of device.</param>
/// <param name="Index">Which device of that kind (0 for the CPU).</param>
public readonly record struct Device(DeviceKind Kind, int Index = 0)
{
    /// <summary>Host memory and the SIMD CPU backend.</summary>
    public static Device Cpu => new(DeviceKind.Cpu);

    /// <summary>The devices this machine has, in order of preference (the CPU is always present).</summary>
    public static IReadOnlyList<Device> Available() => [Cpu];

    /// <summary>The backend that computes on this device.</summary>
    internal IBackend Backend => Kind switch
    {
        DeviceKind.Cpu => CpuBackend.Instance,
        _ => throw new DeviceException($"device {this} is not available on this machine; available: {string.Join(", ", Available())}"),
    };

    /// <summary>PyTorch-style name: <c>cpu</c>, <c>cuda:0</c>.</summary>
    public override string ToString() => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.Cuda => $"cuda:{Index}",
        DeviceKind.OpenCL => $"opencl:{Index}",
        _ => $"ilgpu-cpu:{Index}",
    };
}
