"""steps.py (the peer's side of lib.sh `step`) and promserver's config,
without a VM:  python3 -m unittest discover -s tests/vm/judge"""

import json
import os
import tempfile
import threading
import unittest

from promserver import config_yaml
from steps import GuestEnded, Serial, poll


class SerialTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.log = os.path.join(self.dir.name, "ttyS1.txt")
        self.fifo = os.path.join(self.dir.name, "ttyS1.in")
        os.mkfifo(self.fifo)
        open(self.log, "w").close()
        self.serial = Serial(self.log, self.fifo)

    def tearDown(self):
        self.dir.cleanup()

    def write(self, text):
        with open(self.log, "a") as f:
            f.write(text)

    def test_steps_in_order_with_truth(self):
        self.write("noise\r\nKLPT-STEP up a=1 b=x=y\r\nKLPT-STEP blocked n=3\r\n")
        self.assertEqual(self.serial.next_step(1), ("up", {"a": "1", "b": "x=y"}))
        self.assertEqual(self.serial.next_step(1), ("blocked", {"n": "3"}))

    def test_partial_line_waits_for_its_end(self):
        self.write("KLPT-STEP up n=")
        with self.assertRaises(TimeoutError):
            self.serial.next_step(0.3)
        self.write("12\n")
        self.assertEqual(self.serial.next_step(1), ("up", {"n": "12"}))

    def test_results_end_the_steps(self):
        self.write("KLPT-OUT-BEGIN 10 abc\n")
        with self.assertRaises(GuestEnded):
            self.serial.next_step(1)

    def test_ack_is_one_line(self):
        got = []
        reader = threading.Thread(target=lambda: got.append(open(self.fifo).read()))
        reader.start()
        # the reader opens the fifo: wait for it (bounded) before writing
        self.assertTrue(poll(lambda: self._open_ok(), 5))
        reader.join(5)
        self.assertEqual(got, ["KLPT-ACK up fail: a b\n"])

    def _open_ok(self):
        try:
            self.serial.ack("up", "fail:  a\nb")
            return True
        except GuestEnded:
            return False

    def test_ack_without_reader_fails_at_once(self):
        with self.assertRaises(GuestEnded):
            self.serial.ack("up", "ok")


class ConfigTest(unittest.TestCase):
    def test_jobs_rules_intervals(self):
        c = json.loads(config_yaml({"node": ["127.0.0.1:1"]}, ["/r.yml"]))
        self.assertEqual(c["global"]["scrape_interval"], "1s")
        self.assertEqual(c["global"]["evaluation_interval"], "1s")
        self.assertEqual(c["rule_files"], ["/r.yml"])
        self.assertEqual(c["scrape_configs"],
                         [{"job_name": "node",
                           "static_configs": [{"targets": ["127.0.0.1:1"]}]}])


if __name__ == "__main__":
    unittest.main()
