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
    private static readonly AsyncLocal<Device?> s_current = new();

    /// <summary>Host memory and the SIMD CPU backend.</summary>
    public static Device Cpu => new(DeviceKind.Cpu);

    /// <summary>NVIDIA GPU number <paramref name="index"/> (CUDA through ILGPU).</summary>
    public static Device Cuda(int index = 0) => new(DeviceKind.Cuda, index);

    /// <summary>OpenCL device number <paramref name="index"/> (through ILGPU).</summary>
    public static Device OpenCL(int index = 0) => new(DeviceKind.OpenCL, index);

    /// <summary>ILGPU's CPU accelerator: the GPU kernels, emulated on the host. For tests; present wherever the <c>Engine.Ilgpu</c> package is, and slow.</summary>
    public static Device IlgpuCpu => new(DeviceKind.IlgpuCpu);

    /// <summary>
    /// The devices this machine has: the CPU, then every CUDA device, every OpenCL device, and
    /// ILGPU's CPU accelerator (the emulator, listed last). Without the <c>Engine.Ilgpu</c> package,
    /// only the CPU.
    /// </summary>
    public static IReadOnlyList<Device> Available()
    {
        var list = new List<Device> { Cpu };
        for (int i = 0; i < Accelerators.Count(IlgpuKind.Cuda); i++) list.Add(Cuda(i));
        for (int i = 0; i < Accelerators.Count(IlgpuKind.OpenCL); i++) list.Add(OpenCL(i));
        if (Accelerators.Count(IlgpuKind.Cpu) > 0) list.Add(IlgpuCpu);
        return list;
    }

    /// <summary>
    /// The best device here: <c>ENGINE_DEVICE</c> when set (<c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>,
    /// <c>opencl:0</c>, <c>ilgpu-cpu</c>), else the first CUDA device, else the first OpenCL device,
    /// else the CPU. What <c>--device auto</c> and applications that want "the GPU if any" use.
    /// </summary>
    public static Device Default
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("ENGINE_DEVICE");
            if (!string.IsNullOrWhiteSpace(env)) return Parse(env).CheckAvailable();
            if (Accelerators.Count(IlgpuKind.Cuda) > 0) return Cuda(0);
            if (Accelerators.Count(IlgpuKind.OpenCL) > 0) return OpenCL(0);
            return Cpu;
        }
    }

    /// <summary>
    /// Where creation functions (<c>Zeros</c>, <c>FromArray</c>, <c>RandN</c>, …) put new tensors when
    /// no device is given: the CPU unless a <see cref="Use"/> scope on this flow says otherwise.
    /// </summary>
    public static Device Current => s_current.Value ?? Cpu;

    /// <summary>Makes <paramref name="device"/> the <see cref="Current"/> one until the returned scope is disposed.</summary>
    public static IDisposable Use(Device device)
    {
        device.CheckAvailable();
        var previous = s_current.Value;
        s_current.Value = device;
        return new Restore(previous);
    }

    private sealed class Restore(Device? previous) : IDisposable
    {
        public void Dispose() => s_current.Value = previous;
    }

    /// <summary>Reads <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>, <c>opencl</c>, <c>opencl:N</c> or <c>ilgpu-cpu</c>.</summary>
    public static Device Parse(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        int colon = t.IndexOf(':');
        string kind = colon < 0 ? t : t[..colon];
        int index = 0;
        if (colon >= 0 && !int.TryParse(t[(colon + 1)..], out index) || index < 0)
            throw new DeviceException($"device '{text}': the index after ':' must be a number 0 or more");
        return kind switch
        {
            "cpu" when index == 0 => Cpu,
            "cpu" => throw new DeviceException($"device '{text}': there is one CPU device, cpu (or cpu:0)"),
            "cuda" or "gpu" => Cuda(index),
            "opencl" => OpenCL(index),
            "ilgpu-cpu" when index == 0 => IlgpuCpu,
            "ilgpu-cpu" => throw new DeviceException($"device '{text}': there is one emulated device, ilgpu-cpu (or ilgpu-cpu:0)"),
            _ => throw new DeviceException($"device '{text}' is unknown; use cpu, cuda[:N], opencl[:N] or ilgpu-cpu"),
        };
    }

    /// <summary>This device, or a <see cref="DeviceException"/> naming it and the devices this machine has.</summary>
    public Device CheckAvailable()
    {
        bool present = Kind switch
        {
            DeviceKind.Cpu => Index == 0,
            DeviceKind.IlgpuCpu => Index == 0 && Accelerators.Count(IlgpuKind.Cpu) > 0,
            DeviceKind.Cuda => Index < Accelerators.Count(IlgpuKind.Cuda),
            _ => Index < Accelerators.Count(IlgpuKind.OpenCL),
        };
        if (!present)
            throw new DeviceException($"device {this} is not available on this machine; available: {string.Join(", ", Available())}" +
                (Accelerators.Provider is null ? $" (GPU devices come with the {Accelerators.IlgpuAssemblyName} package, which this app does not reference)" : ""));
        return this;
    }

    /// <summary>The backend that computes on this device.</summary>
    internal IBackend Backend => Kind switch
    {
        DeviceKind.Cpu => CpuBackend.Instance,
        DeviceKind.Cuda => Accelerators.Get(IlgpuKind.Cuda, CheckAvailable().Index),
        DeviceKind.OpenCL => Accelerators.Get(IlgpuKind.OpenCL, CheckAvailable().Index),
        _ => Accelerators.Get(IlgpuKind.Cpu, CheckAvailable().Index),
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
