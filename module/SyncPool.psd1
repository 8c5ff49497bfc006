@{
    RootModule           = 'SyncPool.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6c0e7f2a-3f1d-4b3e-9a51-2f0c8d4e7b19'
    Author               = 'SyncPool contributors'
    CompanyName          = 'SyncPool'
    Copyright            = '(c) SyncPool contributors. MIT License.'
    Description          = 'Concurrent PowerShell: a thread-safe shared table with atomic operations, and a parallel task pool with real timeouts. Rust core, C# cmdlets.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('SyncPool.format.ps1xml')
    TypesToProcess       = @('SyncPool.types.ps1xml')
    CmdletsToExport      = @(
        'New-SyncTable', 'Get-SyncTable', 'Remove-SyncTable', 'Update-SyncTable', 'Wait-SyncTable', 'Lock-SyncTable',
        'Export-SyncTable', 'Import-SyncTable',
        'New-ParallelPool', 'Get-ParallelPool', 'Remove-ParallelPool',
        'Start-ParallelTask', 'Wait-ParallelTask', 'Receive-ParallelTask', 'Get-ParallelTask',
        'Stop-ParallelTask', 'Remove-ParallelTask'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('parallel', 'runspace', 'concurrency', 'threadjob', 'synchronized', 'hashtable')
        }
    }
}
