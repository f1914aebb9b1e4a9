"""What a worker at the lane sees and hears: a screen and a voice, beside the LEDs and buzzer.

The words come from :mod:`wire.labels` (one table, shared with the console); the name shown is
masked before it gets here (:mod:`controller.feedback.names`); the ID number never does. All of it
runs off the decision path (:mod:`controller.feedback.worker`): the relay has moved before a
screen is drawn or a prompt played, and a broken display or a missing sound card is a logged
lane fault, never a crash and never a refused door.
"""
