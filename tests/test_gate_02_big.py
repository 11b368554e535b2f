"""Stage 02's contract with a million elements on both roads (make gates).

tests/test_02_data_transfer.py runs the same checks with 100,000 elements;
here every sequence, string and buffer that the contract calls big has
1,000,000 (1,000 under FFI_SMALL, the slow checkers' size), which shows
that nothing is limited to small inputs.
"""
import unittest

import support
import test_02_data_transfer as contract


class TestCapiMillion(contract.TransferContract, support.Road):
    stage, module = "02", "transfer_capi"
    BIG = support.scale(1_000_000, 1_000)


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestCffiApiMillion(contract.TransferContract, support.Road):
    stage, module = "02", "transfer_cffi"
    BIG = support.scale(1_000_000, 1_000)


if __name__ == "__main__":
    unittest.main()
