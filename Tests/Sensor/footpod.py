#!/usr/bin/env python3
# A running footpod for the sensor tests: on one of bluezoo's adapters it registers a GATT
# application with the Running Speed and Cadence service (0x1814) and its RSC Measurement
# characteristic (0x2A53), advertises it over LE, and while a client has asked for
# notifications it notifies the measurement it was told, four times a second.
#
# It is driven through standard input, one command a line, and says what it did on standard
# output (one line each, flushed), so a test waits on what happened, never on a clock:
#   measure CADENCE SPEED [STRIDE_CM [DISTANCE_DM]]  notify this from now on (speed in m/s)
#   raw HEX        notify these exact bytes once (then the measurement again)
#   silent         stop notifying (the client stays connected); `measure` starts again
#   drop           the link drops: the central's device is disconnected, as BlueZ shows it
#   quit
# It prints `ready` once bluezoo has the application and the advertisement, and
# `sent HEX at EPOCH` when a new value first goes out (the benchmark times from it).
#
# It speaks to bluezoo with python-sdbus, the library bluezoo itself is built on (installed
# with it in the test venv by `make test-deps`). Usage:
#   footpod.py ADAPTER_PATH NAME CENTRAL_DEVICE_PATH_PREFIX
# Where bluezoo 1.0.2 differs from BlueZ, this side works around it (never StrideCue):
# - an advertisement is reported to scanners only with Discoverable set;
# - bluezoo calls Confirm() after every notification, as for an indication: answered here;
# - bluezoo does not pass Notifying changes on, so this side does not rely on them;
# - after Disconnect bluezoo keeps the device's GATT objects, and a second Connect answers with
#   an error (it exports them again, on the same paths) while the device shows Connected, as
#   BlueZ's AlreadyConnected does; `drop` clears Notifying so that the next StartNotify works.

import asyncio
import struct
import sys
import time

import sdbus
from sdbus import (DbusInterfaceCommonAsync, DbusObjectManagerInterfaceAsync, dbus_method_async,
                   dbus_property_async)

RSC_SERVICE = "00001814-0000-1000-8000-00805f9b34fb"
RSC_MEASUREMENT = "00002a53-0000-1000-8000-00805f9b34fb"
APP_PATH = "/com/stridecue/footpod"
SERVICE_PATH = APP_PATH + "/service0"
CHARACTERISTIC_PATH = SERVICE_PATH + "/char0"
ADVERTISEMENT_PATH = "/com/stridecue/footpod/advertisement0"
NOTIFY_SECONDS = 0.25


def say(line):
    print(line, flush=True)


def measurement(cadence, speed, stride_cm=None, distance_dm=None):
    """The RSC Measurement bytes: flags, speed in 1/256 m/s, cadence per minute, then the
    optional stride length (1/100 m) and total distance (1/10 m)."""
    flags = 0x04 if speed >= 2.5 else 0x00  # bit 2: running (a pod's own walking/running guess)
    tail = b""
    if stride_cm is not None:
        flags |= 0x01
        tail += struct.pack("<H", stride_cm)
    if distance_dm is not None:
        flags |= 0x02
        tail += struct.pack("<I", distance_dm)
    return struct.pack("<BHB", flags, round(speed * 256), cadence) + tail


class Service(DbusInterfaceCommonAsync, interface_name="org.bluez.GattService1"):
    @dbus_property_async("s")
    def UUID(self) -> str:
        return RSC_SERVICE

    @dbus_property_async("b")
    def Primary(self) -> bool:
        return True

    @dbus_property_async("ao")
    def Includes(self) -> list[str]:
        return []


class Characteristic(DbusInterfaceCommonAsync, interface_name="org.bluez.GattCharacteristic1"):
    def __init__(self):
        super().__init__()
        self.value = b""
        self.notifying = False
        self.started = asyncio.Event()

    @dbus_property_async("s")
    def UUID(self) -> str:
        return RSC_MEASUREMENT

    @dbus_property_async("o")
    def Service(self) -> str:
        return SERVICE_PATH

    @dbus_property_async("as")
    def Flags(self) -> list[str]:
        return ["notify"]

    @dbus_property_async("ay")
    def Value(self) -> bytes:
        return self.value

    @Value.setter_private
    def _set_value(self, value: bytes):
        self.value = value

    @dbus_property_async("b")
    def Notifying(self) -> bool:
        return self.notifying

    @Notifying.setter_private
    def _set_notifying(self, value: bool):
        self.notifying = value

    @dbus_method_async(input_signature="a{sv}", result_signature="ay")
    async def ReadValue(self, options: dict) -> bytes:
        return self.value

    @dbus_method_async()
    async def StartNotify(self) -> None:
        await self.Notifying.set_async(True)
        self.started.set()
        say("notifying")

    @dbus_method_async()
    async def StopNotify(self) -> None:
        await self.Notifying.set_async(False)
        say("stopped")

    @dbus_method_async()
    async def Confirm(self) -> None:
        pass


class Advertisement(DbusInterfaceCommonAsync, interface_name="org.bluez.LEAdvertisement1"):
    def __init__(self, name):
        super().__init__()
        self.name = name

    @dbus_property_async("s")
    def Type(self) -> str:
        return "peripheral"

    @dbus_property_async("as")
    def ServiceUUIDs(self) -> list[str]:
        return [RSC_SERVICE]

    @dbus_property_async("s")
    def LocalName(self) -> str:
        return self.name

    @dbus_property_async("b")
    def Discoverable(self) -> bool:
        return True

    @dbus_method_async()
    async def Release(self) -> None:
        pass


class GattManager(DbusInterfaceCommonAsync, interface_name="org.bluez.GattManager1"):
    @dbus_method_async(input_signature="oa{sv}")
    async def RegisterApplication(self, application: str, options: dict) -> None:
        raise NotImplementedError


class AdvertisingManager(DbusInterfaceCommonAsync, interface_name="org.bluez.LEAdvertisingManager1"):
    @dbus_method_async(input_signature="oa{sv}")
    async def RegisterAdvertisement(self, advertisement: str, options: dict) -> None:
        raise NotImplementedError


class Device(DbusInterfaceCommonAsync, interface_name="org.bluez.Device1"):
    @dbus_method_async()
    async def Disconnect(self) -> None:
        raise NotImplementedError


async def main():
    adapter, name, central_device = sys.argv[1], sys.argv[2], sys.argv[3]
    sdbus.set_default_bus(sdbus.sd_bus_open_system())
    manager = DbusObjectManagerInterfaceAsync()
    manager.export_to_dbus(APP_PATH)
    service = Service()
    characteristic = Characteristic()
    manager.export_with_manager(SERVICE_PATH, service)
    manager.export_with_manager(CHARACTERISTIC_PATH, characteristic)
    advertisement = Advertisement(name)
    advertisement.export_to_dbus(ADVERTISEMENT_PATH)
    await GattManager.new_proxy("org.bluez", adapter).RegisterApplication(APP_PATH, {})
    await AdvertisingManager.new_proxy("org.bluez", adapter).RegisterAdvertisement(ADVERTISEMENT_PATH, {})
    say("ready")

    state = {"value": measurement(0, 0.0), "silent": False, "raw": None}
    lines = asyncio.Queue()
    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin.fileno(), lambda: lines.put_nowait(sys.stdin.readline()))

    async def notify():
        await characteristic.started.wait()
        last = None
        while True:
            if characteristic.notifying and not state["silent"]:
                value = state["raw"] if state["raw"] is not None else state["value"]
                state["raw"] = None
                sent = time.time()
                await characteristic.Value.set_async(value)
                if value != last:
                    # When a new value first went out, for make bench (notification to sound).
                    say(f"sent {value.hex()} at {sent:.6f}")
                    last = value
            await asyncio.sleep(NOTIFY_SECONDS)

    notifier = asyncio.create_task(notify())
    while True:
        line = await lines.get()
        words = line.split()
        if not line:  # end of input: the test is gone
            break
        if not words:
            continue
        command = words[0]
        if command == "measure":
            numbers = [float(w) for w in words[1:]]
            cadence, speed = int(numbers[0]), numbers[1]
            extra = [int(x) for x in numbers[2:]]
            state["value"] = measurement(cadence, speed, *extra)
            state["silent"] = False
            say(f"measure {state['value'].hex()}")
        elif command == "raw":
            state["raw"] = bytes.fromhex(words[1])
            state["silent"] = False
            say(f"raw {words[1]}")
        elif command == "silent":
            state["silent"] = True
            say("silent")
        elif command == "drop":
            # A dropped link ends the notifications. Notifying goes false here, and is signalled,
            # so that bluezoo passes the next StartNotify on (it skips it while it believes the
            # characteristic notifies, and would ask for AcquireNotify instead).
            await characteristic.Notifying.set_async(False)
            await Device.new_proxy("org.bluez", central_device).Disconnect()
            say("dropped")
        elif command == "quit":
            break
    notifier.cancel()
    say("bye")


if __name__ == "__main__":
    asyncio.run(main())
