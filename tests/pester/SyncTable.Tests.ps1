# Pester 5 suite for the SyncTable cmdlets and hashtable behaviour.
# Mirrors every pattern of ../shared/seeds/synchronized-hashtables-between-runspaces.txt
# with New-SyncTable in place of [hashtable]::Synchronized(@{}).

BeforeAll {
    Import-Module $env:SYNCPOOL_MODULE_PATH -Force
}

Describe 'New-SyncTable behaves like a synchronized hashtable' {
    It 'supports dot, index, ++, Count, Keys, Values, ContainsKey, Remove, Clear' {
        $t = New-SyncTable
        $t.One = 1
        $t['Two'] = 2
        $t.One++
        $t[5] = 'five'
        $t.One | Should -Be 2
        $t['one'] | Should -Be 2
        $t.Count | Should -Be 3
        $t.Keys | Should -Contain 'Two'
        $t.Values | Should -Contain 'five'
        $t.ContainsKey('TWO') | Should -BeTrue
        'Two' -in $t.Keys | Should -BeTrue
        $t.Remove('Two')
        $t.ContainsKey('Two') | Should -BeFalse
        $t.Clear()
        $t.Count | Should -Be 0
    }

    It 'enumerates Name/Value entries and formats like a hashtable' {
        $t = New-SyncTable -InitialValue @{ a = 1; b = 2 }
        $entries = $t.GetEnumerator() | Sort-Object Name
        $entries[0].Name | Should -Be 'a'
        $entries[1].Value | Should -Be 2
        ($t | Out-String) | Should -Match 'Name\s+Value'
        $seen = foreach ($k in $t.Keys) { $k }
        $seen.Count | Should -Be 2
    }

    It 'keeps integer and string keys apart and folds case like OrdinalIgnoreCase' {
        $t = New-SyncTable
        $t[1] = 'int'
        $t['1'] = 'text'
        $t.Count | Should -Be 2
        $t['A'] = 1
        $t['a'] | Should -Be 1
        $t['ß'] = 1
        $t.ContainsKey('SS') | Should -BeFalse
        $cs = New-SyncTable -CaseSensitive
        $cs['A'] = 1; $cs['a'] = 2
        $cs.Count | Should -Be 2
    }

    It 'round-trips non-ASCII keys' {
        $t = New-SyncTable
        $t['Größe'] = '東京'
        $t['größe'] | Should -Be '東京'
    }

    It 'rejects null and unsupported keys with a clear error naming the type' {
        $t = New-SyncTable
        { $t[$null] = 1 } | Should -Throw '*cannot be null*'
        { $t[[version]'1.0'] = 1 } | Should -Throw '*System.Version*'
    }

    It 'is shared through SessionStateProxy.SetVariable (single runspace pattern)' {
        $hash = New-SyncTable
        $hash.One = 1
        $runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        $runspace.SessionStateProxy.SetVariable('Hash', $hash)
        $ps = [powershell]::Create()
        $ps.Runspace = $runspace
        [void]$ps.AddScript({ $hash.One++ })
        $ps.Invoke()
        $ps.Dispose(); $runspace.Dispose()
        $hash.One | Should -Be 2
    }

    It 'is shared through AddArgument into a RunspacePool' {
        $hash = New-SyncTable
        $pool = [runspacefactory]::CreateRunspacePool(1, 5)
        $pool.Open()
        $handles = foreach ($computer in 1..5) {
            $ps = [powershell]::Create().AddScript({ param($computer, $hash) $hash[$computer] = ([int]$computer * 10) }).AddArgument($computer).AddArgument($hash)
            $ps.RunspacePool = $pool
            [pscustomobject]@{ PS = $ps; Handle = $ps.BeginInvoke() }
        }
        foreach ($h in $handles) { [void]$h.PS.EndInvoke($h.Handle); $h.PS.Dispose() }
        $pool.Close()
        $hash[3] | Should -Be 30
        $hash.Count | Should -Be 5
    }

    It 'is shared through $using: in ForEach-Object -Parallel' {
        $t = New-SyncTable
        1..20 | ForEach-Object -Parallel { ($using:t).Increment('n') | Out-Null } -ThrottleLimit 4
        $t.n | Should -Be 20
    }

    It 'is shared through Start-ThreadJob -ArgumentList' {
        $t = New-SyncTable
        Start-ThreadJob { param($t) $t.Job = 'ran' } -ArgumentList $t | Wait-Job | Remove-Job
        $t.Job | Should -Be 'ran'
    }

    It 'is the same table in nested runspaces several levels deep' {
        $t = New-SyncTable
        $outer = [powershell]::Create().AddScript({
            param($t)
            $inner = [powershell]::Create().AddScript({ param($t) $t.Depth = 2 }).AddArgument($t)
            $inner.Invoke(); $inner.Dispose()
        }).AddArgument($t)
        $outer.Invoke(); $outer.Dispose()
        $t.Depth | Should -Be 2
    }

    It 'keeps live objects as the same instances (methods callable) and releases them' {
        $t = New-SyncTable
        $list = [System.Collections.Generic.List[int]]::new()
        $t.List = $list
        $ps = [powershell]::Create().AddScript({ param($t) $t.List.Add(42) }).AddArgument($t)
        $ps.Invoke(); $ps.Dispose()
        $list | Should -Be 42
        [object]::ReferenceEquals($t.List, $list) | Should -BeTrue
        $t.Host = $host
        $t.Host.Name | Should -Be $host.Name
    }
}

Describe 'Atomic operations' {
    It 'Increment from 4 runspaces x 25,000 gives exactly 100,000' {
        $t = New-SyncTable
        $naive = [hashtable]::Synchronized(@{ x = 0 })
        $pool = [runspacefactory]::CreateRunspacePool(4, 4); $pool.Open()
        $jobs = 1..4 | ForEach-Object {
            $ps = [powershell]::Create().AddScript({
                param($t, $naive)
                for ($i = 0; $i -lt 25000; $i++) { [void]$t.Increment('x'); $naive.x++ }
            }).AddArgument($t).AddArgument($naive)
            $ps.RunspacePool = $pool
            [pscustomobject]@{ PS = $ps; Handle = $ps.BeginInvoke() }
        }
        foreach ($j in $jobs) { [void]$j.PS.EndInvoke($j.Handle); $j.PS.Dispose() }
        $pool.Close()
        $t.x | Should -Be 100000
        Write-Host "synchronized hashtable `$h.x++: $($naive.x) of 100000 ($(100000 - $naive.x) lost)"
    }

    It 'Increment reports non-numeric values clearly' {
        $t = New-SyncTable
        $t.s = 'text'
        { $t.Increment('s') } | Should -Throw '*not a number*'
    }

    It 'CompareExchange, GetOrAdd and TryRemove' {
        $t = New-SyncTable
        $t.k = 1
        $t.CompareExchange('k', 2, 3) | Should -BeFalse
        $t.CompareExchange('k', 1, 3) | Should -BeTrue
        $t.GetOrAdd('new', 7) | Should -Be 7
        $t.GetOrAdd('new', 8) | Should -Be 7
        $value = $null
        $t.TryRemove('new', [ref]$value) | Should -BeTrue
        $value | Should -Be 7
    }

    It 'Update and Update-SyncTable retry instead of losing updates' {
        $t = New-SyncTable
        1..8 | ForEach-Object -Parallel {
            $t = $using:t
            for ($i = 0; $i -lt 200; $i++) { [void]$t.Update('u', { param($old) [int]$old + 1 }) }
        } -ThrottleLimit 4
        $t.u | Should -Be 1600
        'u' | Update-SyncTable -Table $t -ScriptBlock { $_ + 1 } -PassThru | Should -Be 1601
    }

    It 'Lock releases on exceptions' {
        $t = New-SyncTable
        { $t.Lock('k', { throw 'inside' }) } | Should -Throw
        $job = Start-ThreadJob { param($t) $t.Lock('k', { $t.Got = $true }) } -ArgumentList $t
        $job | Wait-Job -Timeout 10 | Out-Null
        $t.Got | Should -BeTrue
    }
}

Describe 'Wait-SyncTable' {
    It 'wakes when another runspace writes the key' {
        $t = New-SyncTable
        $job = Start-ThreadJob { param($t) Start-Sleep -Milliseconds 300; $t.Answer = 42 } -ArgumentList $t
        Wait-SyncTable -Table $t -Key Answer -Timeout 10 -PassThru | Should -Be 42
        $job | Wait-Job | Remove-Job
    }

    It 'times out with SyncPool.WaitTimeout or $false under SilentlyContinue' {
        $t = New-SyncTable
        Wait-SyncTable $t never -Timeout 0.2 -ErrorAction SilentlyContinue | Should -BeFalse
        $err = $null
        Wait-SyncTable $t never -Timeout 0.2 -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.WaitTimeout*'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
    }

    It 'is interrupted by stopping the pipeline (Ctrl+C)' {
        $t = New-SyncTable
        $ps = [powershell]::Create().AddCommand('Import-Module').AddArgument($env:SYNCPOOL_MODULE_PATH).AddStatement().AddCommand('Wait-SyncTable').AddParameter('Table', $t).AddParameter('Key', 'never')
        $handle = $ps.BeginInvoke()
        Start-Sleep -Milliseconds 300
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $ps.Dispose()
    }
}

Describe 'Snapshots, export and import' {
    It 'Snapshot is a plain hashtable and enumeration never throws while others write' {
        $t = New-SyncTable
        $job = Start-ThreadJob { param($t) for ($i = 0; $i -lt 20000; $i++) { $t["k$($i % 300)"] = $i } } -ArgumentList $t
        $errors = 0
        while ($job.State -eq 'Running') {
            try { foreach ($e in $t.GetEnumerator()) { } ; $null = $t.Snapshot() } catch { $errors++ }
        }
        $job | Remove-Job
        $errors | Should -Be 0
        $t.Snapshot() | Should -BeOfType [hashtable]
    }

    It 'Export-SyncTable / Import-SyncTable round-trip types exactly' {
        $t = New-SyncTable
        $t.int = 1; $t.double = 1.0; $t.text = 'x'; $t.date = [datetime]::new(2026, 1, 2, 3, 4, 5, 'Utc'); $t.bytes = [byte[]](1, 2)
        $path = Join-Path $TestDrive 't.json'
        $t | Export-SyncTable -Path $path
        $copy = Import-SyncTable -Path $path
        $copy.int | Should -BeOfType [int]
        $copy.double | Should -BeOfType [double]
        $copy.date.Kind | Should -Be 'Utc'
        $copy.bytes | Should -Be @(1, 2)
    }

    It 'refuses live objects by key unless CLIXML is asked for' {
        $t = New-SyncTable
        $t.Host = $host
        $path = Join-Path $TestDrive 'h.json'
        $err = $null
        Export-SyncTable $t $path -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.NotSerializable*'
        $err[0].Exception.Message | Should -Match 'Host'
        Export-SyncTable $t (Join-Path $TestDrive 'h.xml') -AsClixml -Depth 1
        (Import-SyncTable (Join-Path $TestDrive 'h.xml')).Host.Name | Should -Be $host.Name
    }
}

Describe 'Named tables and disposal' {
    It 'Get-SyncTable finds a named table from another runspace' {
        $t = New-SyncTable -Name "Shared$(Get-Random)"
        $name = $t.Name
        $job = Start-ThreadJob { param($name, $path) Import-Module $path; (Get-SyncTable $name).Seen = $true } -ArgumentList $name, $env:SYNCPOOL_MODULE_PATH
        $job | Wait-Job | Remove-Job
        $t.Seen | Should -BeTrue
        Remove-SyncTable -Name $name -Confirm:$false
        Get-SyncTable $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'Remove-SyncTable supports -WhatIf and makes later use an ObjectDisposedException' {
        $t = New-SyncTable
        Remove-SyncTable $t -WhatIf
        $t.IsDisposed | Should -BeFalse
        Remove-SyncTable $t -Confirm:$false
        { $t.Count } | Should -Throw -ExceptionType ([System.Management.Automation.GetValueInvocationException])
        try { $t['x'] = 1 } catch { $_.Exception.InnerException | Should -BeOfType [ObjectDisposedException] }
    }
}

Describe 'The module loads from its own folder' {
    It 'imports from an unrelated working directory and survives -Force re-import' {
        $out = & ([Environment]::ProcessPath) -NoProfile -Command "Set-Location ([IO.Path]::GetTempPath()); Import-Module '$env:SYNCPOOL_MODULE_PATH'; Import-Module '$env:SYNCPOOL_MODULE_PATH' -Force; (New-SyncTable -InitialValue @{a=1}).a; (Get-Command -Module SyncPool).Count"
        $out[0] | Should -Be 1
        [int]$out[1] | Should -BeGreaterThan 10
    }

    It 'fails to import with the expected path when the native library is missing' {
        $copy = Join-Path $TestDrive 'SyncPool'
        Copy-Item $env:SYNCPOOL_MODULE_PATH $copy -Recurse
        Get-ChildItem (Join-Path $copy 'runtimes') -Recurse -File | Remove-Item
        $out = & ([Environment]::ProcessPath) -NoProfile -Command "try { Import-Module '$copy' -ErrorAction Stop } catch { `$_.Exception.Message }" 2>&1
        "$out" | Should -Match ([regex]::Escape((Join-Path $copy 'runtimes')))
    }
}
